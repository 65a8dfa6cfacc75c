import KeelCore

/// How ``retry(_:clock:isolation:_:)`` retries a failing call: how many attempts, how long to wait
/// between them, and which errors are worth another attempt.
///
/// ```swift
/// var policy = RetryPolicy(maxAttempts: 4, initialDelay: .milliseconds(200))
/// policy.deadline = .seconds(5)                     // give up after 5 s overall
/// policy.shouldRetry = { ($0 as? HTTPError)?.isTransient ?? false }
/// let body = try await retry(policy) { try await client.get(url) }
/// ```
public struct RetryPolicy: Sendable {
    /// How delays are randomised so that many clients do not retry in step.
    public enum Jitter: Sendable, Hashable {
        /// Exactly the exponential delay.
        case none
        /// A uniformly random delay between 0 and the exponential delay (AWS's "full jitter").
        case full
        /// A random delay between the initial delay and three times the previous one, capped
        /// (AWS's "decorrelated jitter").
        case decorrelated
    }

    /// The most attempts, the first included; at least 1. Default 3.
    public var maxAttempts: Int
    /// The delay before the second attempt (before jitter). Default 100 ms.
    public var initialDelay: Duration
    /// Each further delay is the previous one times this. Default 2.
    public var multiplier: Double
    /// The longest delay. Default 10 s.
    public var maxDelay: Duration
    /// How delays are randomised. Default ``Jitter/full``.
    public var jitter: Jitter
    /// The longest time from the first attempt to the start of the last; a retry whose delay would
    /// end later is not made. `nil` for no deadline. Default `nil`.
    public var deadline: Duration?
    /// Whether an error is worth another attempt. Default: every error except `CancellationError`
    /// and ``CircuitBreakerError`` (an open breaker answers at once; retrying it only spins).
    public var shouldRetry: @Sendable (any Error) -> Bool
    /// The delay a server asked for in its error (an HTTP `Retry-After`), which is waited instead of
    /// a shorter computed delay. Default: none.
    public var retryAfter: @Sendable (any Error) -> Duration?

    /// A policy of exponential back-off.
    public init(
        maxAttempts: Int = 3, initialDelay: Duration = .milliseconds(100), multiplier: Double = 2,
        maxDelay: Duration = .seconds(10), jitter: Jitter = .full, deadline: Duration? = nil,
        shouldRetry: @escaping @Sendable (any Error) -> Bool = RetryPolicy.retriesAllButCancellationAndOpenBreakers,
        retryAfter: @escaping @Sendable (any Error) -> Duration? = { _ in nil }
    ) {
        precondition(maxAttempts >= 1, "maxAttempts must be at least 1, not \(maxAttempts)")
        precondition(initialDelay >= .zero && maxDelay >= .zero && multiplier >= 1, "delays must not be negative; multiplier at least 1")
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maxDelay = maxDelay
        self.jitter = jitter
        self.deadline = deadline
        self.shouldRetry = shouldRetry
        self.retryAfter = retryAfter
    }

    /// The default ``shouldRetry``: every error but `CancellationError` and ``CircuitBreakerError``.
    public static let retriesAllButCancellationAndOpenBreakers: @Sendable (any Error) -> Bool = { error in
        !(error is CancellationError) && !(error is CircuitBreakerError)
    }

    /// A retry of SQLite's "database is locked": 3 attempts, 100 ms ×
    /// 2^attempt without jitter, only for the errors `isLocked` recognises (with SQLitePool:
    /// `{ ($0 as? SQLiteError)?.isBusy ?? false }`).
    public static func databaseLocked(isLocked: @escaping @Sendable (any Error) -> Bool) -> RetryPolicy {
        RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(100), multiplier: 2, jitter: .none, shouldRetry: isLocked)
    }

    /// The delay after failed attempt `attempt` (1 for the first), given the previous delay (for
    /// decorrelated jitter) and a source of randomness.
    public func delay(afterAttempt attempt: Int, previous: Duration?, using generator: inout some RandomNumberGenerator) -> Duration {
        let kind: Backoff.Jitter =
            switch jitter {
            case .none: .none
            case .full: .full
            case .decorrelated: .decorrelated
            }
        let backoff = Backoff(initialDelay: initialDelay, multiplier: multiplier, maximumDelay: maxDelay, jitter: kind)
        return backoff.delay(afterFailure: attempt, previous: previous, using: &generator)
    }
}
