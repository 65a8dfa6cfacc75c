/// The generic cell rate algorithm: "`rate` per period with bursts of up to `burst`", as a pure
/// function of the stored theoretical arrival time (TAT) and the current time.
///
/// Times are durations since any fixed epoch, so the same decision can run wherever the TAT is
/// stored (in memory here, atomically in Redis or a database for a distributed limiter).
///
/// ```swift
/// let gcra = GCRA(rate: 10, per: .seconds(1), burst: 5)
/// let decision = gcra.evaluate(theoreticalArrival: storedTAT, now: now, cost: 1)
/// if decision.allowed { storedTAT = decision.theoreticalArrival } else { retry(after: decision.retryAfter) }
/// ```
///
/// After any idle period at most `burst` requests pass at once; in a steady state exactly `rate`
/// per period pass, with no drift.
public struct GCRA: Sendable, Hashable {
    /// The time one request "costs": period / rate.
    public let emissionInterval: Duration
    /// How many requests may pass at once.
    public let burst: Int

    /// `rate` requests per `period`, up to `burst` at once.
    public init(rate: Int, per period: Duration, burst: Int) {
        precondition(rate >= 1, "rate must be at least 1, not \(rate)")
        precondition(burst >= 1, "burst must be at least 1, not \(burst)")
        precondition(period > .zero, "period must be positive")
        emissionInterval = period / rate
        self.burst = burst
    }

    /// The outcome of one evaluation.
    public struct Decision: Sendable, Hashable {
        /// Whether the request may pass now.
        public let allowed: Bool
        /// The TAT to store when allowed (unchanged when not).
        public let theoreticalArrival: Duration
        /// How long until the request would pass; zero when allowed.
        public let retryAfter: Duration

        /// Creates a decision.
        @inlinable
        public init(allowed: Bool, theoreticalArrival: Duration, retryAfter: Duration) {
            self.allowed = allowed
            self.theoreticalArrival = theoreticalArrival
            self.retryAfter = retryAfter
        }
    }

    /// Decides a request of `cost` units at `now` given the stored TAT (`nil`: never used).
    @inlinable
    public func evaluate(theoreticalArrival: Duration?, now: Duration, cost: Int = 1) -> Decision {
        let base = max(theoreticalArrival ?? now, now)
        let next = base + emissionInterval * cost
        let allowAt = next - emissionInterval * burst
        if allowAt <= now {
            return Decision(allowed: true, theoreticalArrival: next, retryAfter: .zero)
        }
        return Decision(allowed: false, theoreticalArrival: theoreticalArrival ?? now, retryAfter: allowAt - now)
    }
}
