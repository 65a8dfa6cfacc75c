public import KeelCore
public import Synchronization

/// An in-memory rate limiter for "`rate` per period with bursts of `burst`", by ``GCRA``.
///
/// ```swift
/// let bucket = TokenBucket(rate: 20, per: .seconds(1), burst: 5)
/// if let wait = bucket.tryAcquire() { print("retry in \(wait)") }   // nil: go now
/// try await bucket.acquire()                                      // or wait for the slot
/// ```
///
/// The stored arrival time is one atomic integer updated by compare-and-swap, so a check takes
/// no lock: a clock read and a few arithmetic operations.
public final class TokenBucket<BucketClock: Clock>: Sendable where BucketClock.Duration == Duration {
    @usableFromInline let clock: BucketClock
    @usableFromInline let origin: BucketClock.Instant
    /// The theoretical arrival time in nanoseconds since `origin`; `Int64.min` before the first use.
    @usableFromInline let theoreticalArrival = Atomic<Int64>(.min)
    /// The emission interval in nanoseconds (period / rate).
    @usableFromInline let emissionInterval: Atomic<Int64>
    /// How many may pass at once.
    @usableFromInline let burst: Atomic<Int>

    /// `rate` per `period`, up to `burst` at once, on `clock`.
    public init(rate: Int, per period: Duration, burst: Int, clock: BucketClock) {
        let gcra = GCRA(rate: rate, per: period, burst: burst)
        self.clock = clock
        origin = clock.now
        emissionInterval = Atomic(gcra.emissionInterval.inNanoseconds)
        self.burst = Atomic(burst)
    }

    /// Takes `cost` units now if the rate allows; returns `nil` then, or the wait before it would.
    @inlinable
    public func tryAcquire(cost: Int = 1) -> Duration? {
        let now = origin.duration(to: clock.now).inNanoseconds
        let interval = emissionInterval.load(ordering: .relaxed)
        let tolerance = interval * Int64(burst.load(ordering: .relaxed))
        let increment = interval * Int64(cost)
        var stored = theoreticalArrival.load(ordering: .relaxed)
        while true {
            // GCRA.evaluate on integers, so the compare-and-swap covers the whole decision.
            let next = max(stored, now) + increment
            let allowAt = next - tolerance
            if allowAt > now { return .nanoseconds(allowAt - now) }
            let (exchanged, current) = theoreticalArrival.compareExchange(
                expected: stored, desired: next, ordering: .relaxed)
            if exchanged { return nil }
            stored = current
        }
    }

    /// Waits until `cost` units are allowed, then takes them.
    ///
    /// #### Errors
    /// `CancellationError` when the task is cancelled while waiting; nothing is taken then.
    public func acquire(cost: Int = 1) async throws {
        while let wait = tryAcquire(cost: cost) {
            try await clock.sleep(for: wait)
        }
    }

    /// Changes the rate from now on; the stored arrival time is kept, so the change grants no burst.
    public func setRate(_ rate: Int, per period: Duration, burst: Int) {
        let gcra = GCRA(rate: rate, per: period, burst: burst)
        emissionInterval.store(gcra.emissionInterval.inNanoseconds, ordering: .relaxed)
        self.burst.store(burst, ordering: .relaxed)
    }
}

extension TokenBucket where BucketClock == ContinuousClock {
    /// `rate` per `period`, up to `burst` at once, on the continuous clock.
    public convenience init(rate: Int, per period: Duration, burst: Int) {
        self.init(rate: rate, per: period, burst: burst, clock: ContinuousClock())
    }
}

extension TokenBucket: RateLimiting {}
