/// Why a ``CircuitBreaker`` did not make a call.
public enum CircuitBreakerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The breaker is open: the call was not made. It lets probes through after `remaining`
    /// (`nil` when it was forced open and waits for a reset).
    case open(remaining: Duration?)
    /// The breaker is half-open and all its probe slots are taken: the call was not made.
    case halfOpenFull

    /// A sentence saying what happened.
    public var description: String {
        switch self {
        case .open(let remaining?): "the circuit breaker is open; it lets probes through in \(remaining)"
        case .open(nil): "the circuit breaker was forced open"
        case .halfOpenFull: "the circuit breaker is half-open and its probe calls are all in flight"
        }
    }
}
