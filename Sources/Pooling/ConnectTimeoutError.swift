/// Opening a connection took longer than ``PoolConfiguration/connectTimeout``; the pool retries
/// with back-off and reports it as ``PoolError/lastConnectionError``.
public struct ConnectTimeoutError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The timeout that ran out.
    public let timeout: Duration
    /// What the pool was connecting to (``ConnectionSource/connectionTarget``), when known.
    public let target: String?

    /// Creates an error.
    public init(timeout: Duration, target: String? = nil) {
        self.timeout = timeout
        self.target = target
    }

    /// What happened and what to do.
    public var description: String {
        "opening a connection\(target.map { " to \($0)" } ?? "") took longer than connectTimeout (\(timeout)): "
            + "check that the database is reachable, or raise connectTimeout"
    }
}
