/// Where a ``ConnectionPool`` gets its connections: a database backend, or anything else that is
/// expensive to open and cheap to reuse.
///
/// The pool calls these methods; it never touches the connection otherwise.
///
/// ```swift
/// struct EchoSource: ConnectionSource {
///     func makeConnection(timeout: Duration) async throws -> EchoConnection { try await EchoConnection.open() }
///     func close(_ connection: EchoConnection) async { await connection.close() }
/// }
/// ```
public protocol ConnectionSource: Sendable {
    /// The pooled resource. It crosses tasks, so it must be `Sendable`.
    associatedtype Connection: Sendable

    /// Opens a connection. The pool also enforces `timeout` (its ``PoolConfiguration/connectTimeout``)
    /// by cancelling the call; a source that can pass it to its driver (libpq's
    /// `connect_timeout`) should.
    func makeConnection(timeout: Duration) async throws -> Connection

    /// Checks, before a lease, that an idle connection still works (a pre-ping such as `SELECT 1`).
    /// Returns `false` to have it discarded and replaced. Called as ``PoolConfiguration/validation``
    /// says. The default returns `true`.
    func validate(_ connection: Connection) async -> Bool

    /// Prepares a returned connection for its next user (roll back an open transaction, reset
    /// session state). Returns `false` to have it discarded. The default returns `true`.
    func reset(_ connection: Connection) async -> Bool

    /// Reports, when a connection comes back, whether it can be reused. The default says
    /// ``ConnectionHealth/healthy``. Must not wait.
    func health(of connection: Connection) -> ConnectionHealth

    /// Closes a connection. Errors are the source's to log: the pool forgets the connection either way.
    func close(_ connection: Connection) async

    /// Whether a ``makeConnection(timeout:)`` error says the attempt gave up waiting for an answer
    /// (a server that accepts connections and never answers), rather than that it was refused.
    /// After a timeout, leases waiting with nothing open fail at once, since the next attempt
    /// would wait as long; after a refusal (a database restarting), those that can wait for the
    /// next attempt do. The default recognises the pool's own ``ConnectTimeoutError``.
    func isTimeout(_ error: any Error) -> Bool

    /// What the source connects to, for errors (`db:5432`; never a password). The default is `nil`.
    var connectionTarget: String? { get }
}

extension ConnectionSource {
    /// Every connection is taken to be valid.
    public func validate(_ connection: Connection) async -> Bool { true }
    /// Nothing to reset.
    public func reset(_ connection: Connection) async -> Bool { true }
    /// Every connection is taken to be healthy.
    public func health(of connection: Connection) -> ConnectionHealth { .healthy }
    /// Only the pool's own connect timeout is a timeout.
    public func isTimeout(_ error: any Error) -> Bool { error is ConnectTimeoutError }
    /// Unknown.
    public var connectionTarget: String? { nil }
}
