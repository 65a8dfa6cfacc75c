/// Where a ``CircuitBreaker`` is.
public enum CircuitBreakerState: String, Sendable, Hashable, CustomStringConvertible {
    /// Calls go through; outcomes are counted.
    case closed
    /// Calls are rejected without being made, until the open duration has passed.
    case open
    /// A limited number of probe calls go through; their outcomes close or re-open the breaker.
    case halfOpen
    /// Opened by ``CircuitBreaker/forceOpen()``: calls are rejected until ``CircuitBreaker/reset()``.
    case forcedOpen
    /// Turned off by ``CircuitBreaker/disable()``: every call goes through, nothing is counted.
    case disabled

    /// The state's name.
    public var description: String { rawValue }
}
