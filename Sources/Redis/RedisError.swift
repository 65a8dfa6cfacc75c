/// Why a Redis command or connection failed.
///
/// Match on ``code``; for an error reply, ``kind`` is the server's error kind, the first word of
/// its message (`WRONGTYPE`, `NOSCRIPT`, `WRONGPASS`, `ERR`, …):
///
/// ```swift
/// do { _ = try await redis.send(RedisCommand("INCR", "greeting")) }
/// catch RedisError.Code.server { /* the server refused the command */ }
/// ```
///
/// No password or command argument appears in ``description``: commands are shown by name.
public struct RedisError: Error, CustomStringConvertible {
    /// The kind of failure. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let description: String

        /// The server answered with an error reply; ``RedisError/kind`` says which.
        public static let server = Code(description: "server")
        /// The server could not be reached, refused the login, or the connection was lost
        /// after the command was sent (it may have run).
        public static let connection = Code(description: "connection")
        /// The connection was found lost before anything was sent: the command did not run and
        /// may be retried on another connection.
        public static let connectionBeforeSend = Code(description: "connectionBeforeSend")
        /// The command did not complete within its time limit; the connection was closed, so no
        /// late reply can reach another command.
        public static let timeout = Code(description: "timeout")
        /// The server sent something that is not valid RESP.
        public static let protocolViolation = Code(description: "protocolViolation")
        /// A configuration or URL that cannot be used, or a connection used wrongly (by two tasks
        /// at once, or after it was closed).
        public static let misuse = Code(description: "misuse")

        /// Matches a ``RedisError`` of this code: `catch RedisError.Code.timeout { … }`.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? RedisError)?.code == code
        }
    }

    /// The kind of failure.
    public let code: Code
    /// For ``Code/server``: the server's error kind (`WRONGTYPE`, `NOSCRIPT`, `ERR`, …).
    public let kind: String?
    /// What happened.
    public let message: String

    /// Creates an error.
    public init(code: Code, kind: String? = nil, message: String) {
        self.code = code
        self.kind = kind
        self.message = message
    }

    /// An error reply's text: the kind is its first word.
    init(serverReply text: String) {
        let kind = text.prefix { $0 != " " }
        self.init(code: .server, kind: kind.isEmpty ? nil : String(kind), message: text)
    }

    /// The code and the message.
    public var description: String {
        "Redis \(code): \(message)"
    }
}
