/// Why the pool closed a connection; ``PoolStatistics`` counts each.
public enum CloseReason: String, Sendable, Hashable, CaseIterable {
    /// Idle longer than ``PoolConfiguration/idleTimeout`` while more than ``PoolConfiguration/minConnections`` were open.
    case idle
    /// Older than ``PoolConfiguration/maxLifetime`` (recycled).
    case lifetime
    /// Reported broken, failed validation or failed its reset.
    case broken
    /// Beyond `maxConnections` and idle for `overflowIdleTimeout` (or, without one, returned with
    /// `maxConnections` already idle): the pool shrinking back after a burst used its overflow.
    case overflow
    /// Closed by shutdown.
    case shutdown
}
