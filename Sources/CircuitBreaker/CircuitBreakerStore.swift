/// Where the breakers of one name in many processes share their state, so that when one opens the
/// others stop calling too, and when one's probes close it the others close.
///
/// A breaker made with a store shares what its own calls cause: opening (from closed or from
/// half-open) and closing after successful probes. Each process keeps its own counts and window;
/// half-open probes run in each process. ``CircuitBreaker/reset()``, ``CircuitBreaker/forceOpen()``
/// and ``CircuitBreaker/disable()`` act on one process only. While the store cannot reach its
/// server, every breaker goes on with its local state.
public protocol CircuitBreakerStore: Sendable {
    /// Tells the other processes that breaker `name` moved to `state`. Called outside the
    /// breaker's lock on the task whose call caused the change, so it must not wait: a store
    /// sends from a task of its own.
    func share(_ state: CircuitBreakerSharedState, name: String)

    /// From now on calls `receive` with each state another process shares for `name`, and with
    /// the opening the store holds for `name`, if any, when it starts following and whenever the
    /// store reconnects. `receive` returns `false` once its breaker is gone; the store then
    /// forgets it.
    func follow(name: String, _ receive: @escaping @Sendable (CircuitBreakerSharedState) -> Bool)
}
