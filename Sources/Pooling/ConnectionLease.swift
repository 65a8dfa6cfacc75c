/// A connection taken with ``ConnectionPool/leaseConnection(deadline:file:line:)`` for code that
/// cannot use ``ConnectionPool/withConnection(isolation:file:line:_:)``.
///
/// A lease is not copyable, so it is released once: ``release()`` consumes it. A lease that is
/// dropped without a release is a leak: its connection stays in use (and is logged when
/// ``PoolConfiguration/leakDetectionThreshold`` is set).
///
/// ```swift
/// let lease = try await pool.leaseConnection()
/// defer { Task { await lease.release() } }   // or release it when done
/// try await lease.connection.send(...)
/// ```
public struct ConnectionLease<Source: ConnectionSource, PoolClock: Clock>: ~Copyable, Sendable
where PoolClock.Duration == Duration {
    /// The leased connection.
    public let connection: Source.Connection
    let lease: ConnectionPool<Source, PoolClock>.Machine.Lease
    let pool: ConnectionPool<Source, PoolClock>

    init(lease: ConnectionPool<Source, PoolClock>.Machine.Lease, pool: ConnectionPool<Source, PoolClock>) {
        self.connection = lease.connection
        self.lease = lease
        self.pool = pool
    }

    /// Gives the connection back: the source resets it, then it goes to the next waiter or the idle set.
    public consuming func release() async {
        await pool.release(lease)
    }
}
