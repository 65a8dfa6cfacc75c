/// Opening a connection took longer than ``PoolConfiguration/connectTimeout``; the pool retries
/// with back-off and reports it as ``PoolError/lastConnectionError``.
public struct ConnectTimeoutError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The timeout that ran out.
    public let timeout: Duration

    /// Creates an error.
    public init(timeout: Duration) { self.timeout = timeout }

    /// What happened and what to do.
    public var description: String {
        "opening a connection took longer than connectTimeout (\(timeout)): check that the database is reachable, "
            + "or raise connectTimeout"
    }
}
