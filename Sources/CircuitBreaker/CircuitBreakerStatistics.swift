/// What a ``CircuitBreaker`` has counted since it was created (totals) and over its window.
public struct CircuitBreakerStatistics: Sendable, Hashable {
    /// The state when the statistics were read.
    public var state: CircuitBreakerState = .closed
    /// Calls made and counted (successes and failures).
    public var calls = 0
    /// Calls counted as successes.
    public var successes = 0
    /// Calls counted as failures (slow successes included when they count as failures).
    public var failures = 0
    /// Calls slower than the slow-call threshold.
    public var slowCalls = 0
    /// Calls rejected without being made.
    public var notPermitted = 0
    /// Calls that ended in an ignored error or a cancellation.
    public var ignored = 0
    /// How many times the breaker opened by its own calls.
    public var trips = 0
    /// How many times it opened because the breaker of its name in another process did (through
    /// its ``CircuitBreakerStore``).
    public var sharedOpens = 0
    /// How many times it closed because the breaker of its name in another process did.
    public var sharedCloses = 0
    /// Failures in a row, now.
    public var consecutiveFailures = 0
    /// Calls in the window now.
    public var windowCalls = 0
    /// Failures in the window now.
    public var windowFailures = 0

    /// The window's failure rate (0 when it holds no call).
    public var failureRate: Double { windowCalls == 0 ? 0 : Double(windowFailures) / Double(windowCalls) }

    /// Empty statistics.
    public init() {}
}
