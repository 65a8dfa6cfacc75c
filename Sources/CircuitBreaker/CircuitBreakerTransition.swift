/// A change of a ``CircuitBreaker``'s state, as its ``CircuitBreaker/transitions`` stream and its
/// `onTransition` callback report it.
public struct CircuitBreakerTransition: Sendable, Hashable, CustomStringConvertible {
    /// The breaker's name.
    public let name: String
    /// The state before.
    public let from: CircuitBreakerState
    /// The state after.
    public let to: CircuitBreakerState

    /// Creates a transition.
    public init(name: String, from: CircuitBreakerState, to: CircuitBreakerState) {
        self.name = name
        self.from = from
        self.to = to
    }

    /// `"<name>: closed -> open"`.
    public var description: String { "\(name): \(from) -> \(to)" }
}
