/// A limiter's counters and current state.
public struct RateLimiterStatistics: Sendable, Hashable, CustomStringConvertible {
    /// Permits granted.
    public var acquired = 0
    /// Permits that had to wait (in the queue or for the interval).
    public var waited = 0
    /// The total time waited by those.
    public var totalWait: Duration = .zero
    /// The longest single wait.
    public var maxWait: Duration = .zero
    /// Acquires that gave up at their timeout.
    public var timeouts = 0
    /// Acquires cancelled while waiting.
    public var cancellations = 0
    /// The smallest time between two consecutive starts the limiter let through (with a
    /// `minInterval`); `nil` before the second start.
    public var minStartGap: Duration?
    /// Permits held now.
    public var inFlight = 0
    /// Callers queued now.
    public var queued = 0

    /// Creates empty statistics.
    public init() {}

    /// One line with every figure.
    public var description: String {
        "acquired=\(acquired) waited=\(waited) totalWait=\(totalWait) maxWait=\(maxWait) timeouts=\(timeouts) "
            + "cancellations=\(cancellations) inFlight=\(inFlight) queued=\(queued) "
            + "minStartGap=\(minStartGap.map { "\($0)" } ?? "none")"
    }
}
