/// A snapshot of a pool's state and counters: the union of Go's `DBStats` and SQLAlchemy's `status()`.
///
/// ```swift
/// let stats = pool.statistics
/// print("\(stats.inUse)/\(stats.open) in use, \(stats.waiting) waiting, \(stats.timeouts) timeouts")
/// ```
public struct PoolStatistics: Sendable, Hashable, CustomStringConvertible {
    /// Connections open (idle, leased or being validated), overflow included.
    public var open = 0
    /// Open connections waiting in the pool.
    public var idle = 0
    /// Open connections leased out (or being validated for a lease).
    public var inUse = 0
    /// Leased connections beyond `maxConnections` (part of `inUse`).
    public var overflowInUse = 0
    /// Connection attempts in flight.
    public var connecting = 0
    /// Tasks waiting for a connection.
    public var waiting = 0
    /// Leases that had to wait (Go's `WaitCount`).
    public var waitCount = 0
    /// The total time those leases waited (Go's `WaitDuration`).
    public var totalWaitDuration: Duration = .zero
    /// Leases that gave up after their timeout.
    public var timeouts = 0
    /// Connections opened.
    public var created = 0
    /// Connection attempts that failed.
    public var creationFailures = 0
    /// Connections closed, by reason.
    public var closed: [CloseReason: Int] = [:]

    /// Creates an empty snapshot.
    public init() {}

    /// Connections closed for one reason.
    public func closed(_ reason: CloseReason) -> Int { closed[reason, default: 0] }

    /// One line with every figure.
    public var description: String {
        let closes = CloseReason.allCases.map { "\($0.rawValue)=\(closed($0))" }.joined(separator: " ")
        return "open=\(open) idle=\(idle) inUse=\(inUse) overflowInUse=\(overflowInUse) connecting=\(connecting) "
            + "waiting=\(waiting) waitCount=\(waitCount) waitDuration=\(totalWaitDuration) timeouts=\(timeouts) "
            + "created=\(created) creationFailures=\(creationFailures) closed[\(closes)]"
    }
}
