/// Why the pool could not hand out a connection.
///
/// Match on ``code``; the ``description`` says what happened and what to do:
///
/// ```
/// timed out after 30 s waiting for a connection: 20/20 in use, 0/80 overflow in use, 57 waiting.
/// Raise maxConnections or maxOverflow, or find the slow work holding connections.
/// ```
public struct PoolError: Error, CustomStringConvertible {
    /// The kind of failure. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let description: String

        /// No connection came free before the acquire timeout or deadline.
        public static let acquireTimeout = Code(description: "acquireTimeout")
        /// The pool is shutting down or shut down.
        public static let shutdown = Code(description: "shutdown")
        /// No connection is open and opening one failed: ``PoolError/lastConnectionError`` says why.
        /// The pool keeps retrying with back-off.
        public static let connectionUnavailable = Code(description: "connectionUnavailable")

        /// Matches a ``PoolError`` of this code: `catch PoolError.Code.acquireTimeout { … }`.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? PoolError)?.code == code
        }
    }

    /// The kind of failure.
    public let code: Code
    /// What happened and what to do.
    public let message: String
    /// The pool's state when the lease failed.
    public let statistics: PoolStatistics
    /// The latest error from opening a connection, if any attempt failed since the last success.
    public let lastConnectionError: (any Error)?
    /// How long the lease waited.
    public let waited: Duration

    /// Creates an error.
    public init(code: Code, message: String, statistics: PoolStatistics, lastConnectionError: (any Error)?, waited: Duration) {
        self.code = code
        self.message = message
        self.statistics = statistics
        self.lastConnectionError = lastConnectionError
        self.waited = waited
    }

    /// The message, and the last connection error when there is one.
    public var description: String {
        guard let lastConnectionError else { return message }
        return "\(message) Last connection error: \(lastConnectionError)"
    }
}
