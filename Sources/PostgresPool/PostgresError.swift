/// An error from PostgreSQL or from the connection to it.
///
/// Server errors carry the fields of PostgreSQL's error report (SQLSTATE, severity, message,
/// detail, hint, constraint). Bind values never appear: where the server quotes a value that
/// was bound (as in `Key (token)=(…) already exists`), it is replaced by `<redacted>`, and
/// ``description`` leaves out the detail, which quotes row values.
///
/// ```swift
/// do {
///     try await database.execute("INSERT INTO users (email) VALUES (\(email))")
/// } catch let error as PostgresError where error.isUniqueViolation {
///     // already registered
/// }
/// ```
public struct PostgresError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the error came from. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let description: String

        /// The server reported it for a statement.
        public static let server = Code(description: "server")
        /// The connection failed or was lost (the statement may or may not have run).
        public static let connection = Code(description: "connection")
        /// The connection failed before the statement was sent: it did not run, so retrying it
        /// on another connection is safe.
        public static let connectionBeforeSend = Code(description: "connectionBeforeSend")
        /// The client refused the request (bad input, or misuse of a connection).
        public static let client = Code(description: "client")
        /// A deadline passed: the statement ran past ``PostgresConfiguration/queryTimeout`` (a cancel
        /// request was sent and the connection closed; the statement may or may not have run), or
        /// connecting ran past its timeout or the connection string's `connect_timeout`.
        public static let timeout = Code(description: "timeout")

        /// Matches a ``PostgresError`` of this code: `catch PostgresError.Code.timeout { … }`.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? PostgresError)?.code == code
        }
    }

    /// Where the error came from.
    public let code: Code
    /// The five-character SQLSTATE (`23505`); `nil` for errors with no server report.
    public let sqlState: String?
    /// `ERROR`, `FATAL` or `PANIC`; `nil` without a server report.
    public let severity: String?
    /// The primary message.
    public let message: String
    /// The server's detail, with bound values redacted. Not part of ``description``.
    public let detail: String?
    /// The server's hint.
    public let hint: String?
    /// The name of the violated constraint, for constraint violations.
    public let constraint: String?

    /// Creates an error.
    public init(
        code: Code, sqlState: String? = nil, severity: String? = nil, message: String, detail: String? = nil,
        hint: String? = nil, constraint: String? = nil
    ) {
        self.code = code
        self.sqlState = sqlState
        self.severity = severity
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
    }

    static func connection(_ message: String) -> PostgresError { PostgresError(code: .connection, message: message) }
    static func client(_ message: String) -> PostgresError { PostgresError(code: .client, message: message) }

    /// A duplicate key (SQLSTATE 23505).
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// A serialization failure (40001) or deadlock (40P01): retry the transaction.
    public var isSerializationFailure: Bool { sqlState == "40001" || sqlState == "40P01" }
    /// The statement was cancelled (57014), by a cancel request or `statement_timeout`.
    public var isQueryCanceled: Bool { sqlState == "57014" }
    /// A client-side deadline passed: ``PostgresConfiguration/queryTimeout``, or the connect timeout.
    public var isTimeout: Bool { code == .timeout }
    /// The connection failed or the server ended it (class 08, or 57P01–57P03: shutdown,
    /// crash, cannot connect now). The pool replaces such connections.
    public var isConnectionFailure: Bool {
        if code == .connection || code == .connectionBeforeSend { return true }
        guard code == .server, let sqlState else { return false }
        return sqlState.hasPrefix("08") || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }

    /// One line: SQLSTATE, severity, message, hint and constraint; never bind values.
    public var description: String {
        var text = "PostgreSQL"
        if let sqlState { text += " \(severity ?? "ERROR") \(sqlState)" } else { text += " \(code) error" }
        text += ": \(message)"
        if let constraint { text += " (constraint \(constraint))" }
        if let hint { text += ". Hint: \(hint)" }
        return text
    }
}
