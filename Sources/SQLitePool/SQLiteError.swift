import CSQLite3

/// An error from SQLite or from Keel's SQLite backend.
///
/// It carries SQLite's extended result code (``code``, such as 2067 for
/// `SQLITE_CONSTRAINT_UNIQUE`), SQLite's message, and the SQL text of the statement when there
/// was one. Bind values never appear: the SQL has `?` placeholders, and SQLite's own messages
/// name constraints and columns, not values.
///
/// ```swift
/// do {
///     try await database.execute("INSERT INTO users (email) VALUES (\(email))")
/// } catch let error as SQLiteError where error.isUniqueViolation {
///     // already registered
/// }
/// ```
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// SQLite's extended result code (`sqlite3_extended_errcode`), such as `SQLITE_BUSY` (5) or
    /// `SQLITE_CONSTRAINT_UNIQUE` (2067). Errors Keel raises itself use `SQLITE_MISUSE` (21) for
    /// bad input and `SQLITE_CANTOPEN` (14) for a database that cannot be opened.
    public let code: Int32
    /// What went wrong, in SQLite's words or Keel's.
    public let message: String
    /// The statement's SQL text (placeholders, never values), when the error is about one.
    public let sql: String?

    /// Creates an error.
    public init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// The primary result code: the low 8 bits of ``code`` (`SQLITE_CONSTRAINT` for all constraint kinds).
    public var primaryCode: Int32 { code & 0xFF }

    /// The database was locked by another connection or process for longer than the busy timeout.
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }

    /// A `UNIQUE` constraint or `PRIMARY KEY` was violated.
    public var isUniqueViolation: Bool {
        // SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY: macros Swift does not import.
        code == SQLITE_CONSTRAINT | (8 << 8) || code == SQLITE_CONSTRAINT | (6 << 8)
    }

    /// A constraint (`UNIQUE`, `NOT NULL`, `CHECK`, `FOREIGN KEY`, ...) was violated.
    public var isConstraintViolation: Bool { primaryCode == SQLITE_CONSTRAINT }

    /// The statement was interrupted (by the cancellation of its task).
    public var isInterrupted: Bool { primaryCode == SQLITE_INTERRUPT }

    /// SQLite's name of the code (`SQLITE_CONSTRAINT_UNIQUE` is shown as its text, `constraint failed`),
    /// the message, and the SQL: `SQLite error 2067 (constraint failed): UNIQUE constraint failed: users.email; SQL: INSERT ...`.
    public var description: String {
        var text = "SQLite error \(code) (\(String(cString: sqlite3_errstr(code)))): \(message)"
        if let sql { text += "; SQL: \(sql)" }
        return text
    }

    /// An error for bad input or misuse of the API.
    static func misuse(_ message: String, sql: String? = nil) -> SQLiteError {
        SQLiteError(code: SQLITE_MISUSE, message: message, sql: sql)
    }

    /// The error SQLite reports on a connection for its last failed call.
    static func last(on handle: OpaquePointer, sql: String?) -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// The error of a database that is closed or closing.
    static let closed = SQLiteError(code: SQLITE_MISUSE, message: "the database is closed")
}
