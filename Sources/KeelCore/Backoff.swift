/// Exponential back-off with jitter: how long to wait after each failed attempt of something that
/// is retried (a connection, a statement that found SQLite locked, a call under a retry policy).
///
/// The delay after failure `n` (1 for the first) is `initialDelay × multiplierⁿ⁻¹`, capped at
/// `maximumDelay`, then randomised by ``Jitter``. A value with the randomness passed in, so every
/// user is tested without waiting.
///
/// ```swift
/// let backoff = Backoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(5), jitter: .equal)
/// var random = SplitMix64(seed: 1)
/// let wait = backoff.delay(afterFailure: 3, using: &random)   // between 200 and 400 ms
/// ```
public struct Backoff: Sendable, Hashable {
    /// How a delay is randomised, so that many clients do not retry in step.
    public enum Jitter: Sendable, Hashable {
        /// Exactly the exponential delay.
        case none
        /// A uniformly random delay between 0 and the exponential delay (AWS's "full jitter").
        case full
        /// Half the exponential delay fixed, half random: retries spread but still back off.
        case equal
        /// A random delay between the initial delay and three times the previous one, capped
        /// (AWS's "decorrelated jitter").
        case decorrelated
    }

    /// The delay after the first failure, before jitter.
    public var initialDelay: Duration
    /// Each further delay is the previous one times this; at least 1.
    public var multiplier: Double
    /// The longest delay.
    public var maximumDelay: Duration
    /// How delays are randomised.
    public var jitter: Jitter

    /// A back-off starting at `initialDelay` and growing by `multiplier` up to `maximumDelay`.
    public init(initialDelay: Duration, multiplier: Double = 2, maximumDelay: Duration, jitter: Jitter) {
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maximumDelay = maximumDelay
        self.jitter = jitter
    }

    /// The delay after failure `attempt` (1 for the first).
    ///
    /// - Parameters:
    ///   - attempt: which failure this is, 1 for the first.
    ///   - previous: the delay waited after the previous failure (used by
    ///     ``Jitter/decorrelated``; `nil` after the first).
    ///   - random: a number in `0..<1`.
    public func delay(afterFailure attempt: Int, previous: Duration? = nil, random: Double) -> Duration {
        let cap = Double(maximumDelay.inNanoseconds)
        var base = Double(initialDelay.inNanoseconds)
        for _ in 1..<max(1, attempt) where base < cap { base *= multiplier }
        base = min(base, cap)
        let nanoseconds: Double =
            switch jitter {
            case .none: base
            case .full: base * random
            case .equal: base / 2 + base / 2 * random
            case .decorrelated: {
                let low = min(Double(initialDelay.inNanoseconds), cap)
                let high = min(max(low, Double((previous ?? initialDelay).inNanoseconds) * 3), cap)
                return low + (high - low) * random
            }()
            }
        return .nanoseconds(Int64(nanoseconds))
    }

    /// The delay after failure `attempt`, drawing the randomness from `generator`.
    ///
    /// - Parameters:
    ///   - attempt: which failure this is, 1 for the first.
    ///   - previous: the delay waited after the previous failure (`nil` after the first).
    ///   - generator: where the randomness comes from (a ``SplitMix64`` in tests).
    public func delay(
        afterFailure attempt: Int, previous: Duration? = nil, using generator: inout some RandomNumberGenerator
    ) -> Duration {
        delay(afterFailure: attempt, previous: previous, random: Double(generator.next() >> 11) * 0x1.0p-53)
    }
}
