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
    /// Where the error came from.
    public enum Source: String, Sendable, Hashable {
        /// The server reported it for a statement.
        case server
        /// The connection failed or was lost (the statement may or may not have run).
        case connection
        /// The connection failed before the statement was sent: it did not run, so retrying it
        /// on another connection is safe.
        case connectionBeforeSend
        /// The client refused the request (bad input, or misuse of a connection).
        case client
        /// The statement ran past ``PostgresConfiguration/queryTimeout``: a cancel request was sent
        /// and the connection closed. The statement may or may not have run.
        case timeout
    }

    /// Where the error came from.
    public let source: Source
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
        source: Source, sqlState: String? = nil, severity: String? = nil, message: String, detail: String? = nil,
        hint: String? = nil, constraint: String? = nil
    ) {
        self.source = source
        self.sqlState = sqlState
        self.severity = severity
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
    }

    static func connection(_ message: String) -> PostgresError { PostgresError(source: .connection, message: message) }
    static func client(_ message: String) -> PostgresError { PostgresError(source: .client, message: message) }

    /// A duplicate key (SQLSTATE 23505).
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// A serialization failure (40001) or deadlock (40P01): retry the transaction.
    public var isSerializationFailure: Bool { sqlState == "40001" || sqlState == "40P01" }
    /// The statement was cancelled (57014), by a cancel request or `statement_timeout`.
    public var isQueryCanceled: Bool { sqlState == "57014" }
    /// The statement ran past the client-side ``PostgresConfiguration/queryTimeout``.
    public var isTimeout: Bool { source == .timeout }
    /// The connection failed or the server ended it (class 08, or 57P01–57P03: shutdown,
    /// crash, cannot connect now). The pool replaces such connections.
    public var isConnectionFailure: Bool {
        switch source {
        case .connection, .connectionBeforeSend: return true
        case .client, .timeout:
            return false
        case .server:
            guard let sqlState else { return false }
            return sqlState.hasPrefix("08") || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
        }
    }

    /// One line: SQLSTATE, severity, message, hint and constraint; never bind values.
    public var description: String {
        var text = "PostgreSQL"
        if let sqlState { text += " \(severity ?? "ERROR") \(sqlState)" } else { text += " \(source.rawValue) error" }
        text += ": \(message)"
        if let constraint { text += " (constraint \(constraint))" }
        if let hint { text += ". Hint: \(hint)" }
        return text
    }
}
