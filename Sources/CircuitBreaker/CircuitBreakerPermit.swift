/// Permission for one call from ``CircuitBreaker/permit()``: report how the call went with
/// ``success()``, ``failure(_:)`` or ``ignore()``, once (the permit cannot be copied). A permit
/// dropped without a report counts as ignored, so a half-open probe slot is never lost.
public struct CircuitBreakerPermit<BreakerClock: Clock>: ~Copyable, Sendable where BreakerClock.Duration == Duration {
    private let breaker: CircuitBreaker<BreakerClock>
    private let ticket: CircuitBreaker<BreakerClock>.Ticket
    private var reported = false

    init(breaker: CircuitBreaker<BreakerClock>, ticket: CircuitBreaker<BreakerClock>.Ticket) {
        self.breaker = breaker
        self.ticket = ticket
    }

    /// The call succeeded.
    public consuming func success() {
        report(.success)
    }

    /// The call failed with `error`; the breaker's classifier decides how it counts.
    public consuming func failure(_ error: any Error) {
        report(breaker.outcome(of: error))
    }

    /// The call is not to be counted (it was cancelled, or never made).
    public consuming func ignore() {
        report(.ignored)
    }

    private mutating func report(_ outcome: CircuitBreakerStateMachine.Outcome) {
        reported = true
        breaker.finish(ticket, outcome)
    }

    deinit {
        if !reported { breaker.finish(ticket, .ignored) }
    }
}
