/// A state change one process's ``CircuitBreaker`` shares with the breakers of the same name in
/// other processes, through a ``CircuitBreakerStore``.
public enum CircuitBreakerSharedState: Sendable, Hashable {
    /// The breaker opened: the others open too, for `remaining`.
    case open(remaining: Duration)
    /// The breaker's probes succeeded and it closed: the others close too.
    case closed
}
