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
    /// SQLite's extended result code (`sqlite3_extended_errcode`). Every SQLite code is a value of
    /// this type; the ones an application tests most are named.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// SQLite's number for it, such as 5 for `SQLITE_BUSY` or 2067 for `SQLITE_CONSTRAINT_UNIQUE`.
        public let rawValue: Int32

        /// The code SQLite calls `rawValue`.
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// `SQLITE_BUSY`: another connection or process held the lock past the busy timeout.
        public static let busy = Code(rawValue: SQLITE_BUSY)
        /// `SQLITE_LOCKED`: a conflict inside one connection's shared cache.
        public static let locked = Code(rawValue: SQLITE_LOCKED)
        /// `SQLITE_CONSTRAINT`: a constraint was violated (the primary code of every kind).
        public static let constraint = Code(rawValue: SQLITE_CONSTRAINT)
        /// `SQLITE_CONSTRAINT_UNIQUE`.
        public static let constraintUnique = Code(rawValue: SQLITE_CONSTRAINT | (8 << 8))
        /// `SQLITE_CONSTRAINT_PRIMARYKEY`.
        public static let constraintPrimaryKey = Code(rawValue: SQLITE_CONSTRAINT | (6 << 8))
        /// `SQLITE_INTERRUPT`: the statement was interrupted (by the cancellation of its task).
        public static let interrupt = Code(rawValue: SQLITE_INTERRUPT)
        /// `SQLITE_MISUSE`: what Keel raises for bad input or misuse of the API.
        public static let misuse = Code(rawValue: SQLITE_MISUSE)
        /// `SQLITE_CANTOPEN`: the database cannot be opened.
        public static let cantOpen = Code(rawValue: SQLITE_CANTOPEN)
        /// `SQLITE_NOTADB`: the file is not a SQLite database.
        public static let notADatabase = Code(rawValue: SQLITE_NOTADB)
        /// `SQLITE_READONLY`: the database cannot be written.
        public static let readOnly = Code(rawValue: SQLITE_READONLY)

        /// The primary result code: the low 8 bits (``constraint`` for every kind of constraint).
        public var primary: Code { Code(rawValue: rawValue & 0xFF) }

        /// The number and SQLite's text for it: `2067 (constraint failed)`.
        public var description: String { "\(rawValue) (\(String(cString: sqlite3_errstr(rawValue))))" }

        /// Matches a ``SQLiteError`` whose code or primary code is this one:
        /// `catch SQLiteError.Code.constraint { … }` catches every constraint violation.
        public static func ~= (code: Code, error: any Error) -> Bool {
            guard let error = error as? SQLiteError else { return false }
            return error.code == code || error.code.primary == code
        }
    }

    /// SQLite's extended result code, such as ``Code/busy`` or ``Code/constraintUnique``. Errors Keel
    /// raises itself use ``Code/misuse`` for bad input and ``Code/cantOpen`` for a database that
    /// cannot be opened.
    public let code: Code
    /// What went wrong, in SQLite's words or Keel's.
    public let message: String
    /// The statement's SQL text (placeholders, never values), when the error is about one.
    public let sql: String?

    /// Creates an error.
    public init(code: Code, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    init(code: Int32, message: String, sql: String? = nil) {
        self.init(code: Code(rawValue: code), message: message, sql: sql)
    }

    /// The database was locked by another connection or process for longer than the busy timeout.
    public var isBusy: Bool { code.primary == .busy || code.primary == .locked }

    /// A `UNIQUE` constraint or `PRIMARY KEY` was violated.
    public var isUniqueViolation: Bool { code == .constraintUnique || code == .constraintPrimaryKey }

    /// A constraint (`UNIQUE`, `NOT NULL`, `CHECK`, `FOREIGN KEY`, ...) was violated.
    public var isConstraintViolation: Bool { code.primary == .constraint }

    /// The statement was interrupted (by the cancellation of its task).
    public var isInterrupted: Bool { code.primary == .interrupt }

    /// The code, the message, and the SQL:
    /// `SQLite error 2067 (constraint failed): UNIQUE constraint failed: users.email; SQL: INSERT ...`.
    public var description: String {
        var text = "SQLite error \(code): \(message)"
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
