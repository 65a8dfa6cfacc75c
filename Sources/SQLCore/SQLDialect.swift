/// What differs between the SQL databases Keel speaks to: placeholders, identifier
/// limits, bind limits and what the database can do (``Capabilities``). Modules above SQLCore
/// decide by capability, never by the dialect's name.
///
/// ```swift
/// SQLDialect.postgres.placeholder(1)               // "$1"
/// try SQLDialect.postgres.quoteIdentifier("a\"b")  // "\"a\"\"b\""
/// ```
///
/// Backends build the dialect of the server or library they are connected to: the SQLite
/// backend reads the linked library's version and `sqlite3_limit(SQLITE_LIMIT_VARIABLE_NUMBER)`
/// at run time and passes them to ``sqlite(versionNumber:maxBindParameters:)``.
public struct SQLDialect: Sendable, Hashable, CustomStringConvertible {
    /// How bind parameters are written in SQL text.
    public enum PlaceholderStyle: Sendable, Hashable {
        /// `$1`, `$2`, ... (PostgreSQL).
        case dollarNumbered
        /// `?` for each (SQLite, MySQL).
        case questionMark
    }

    /// What a database can do beyond the SQL both dialects share. New capabilities may be added.
    public struct Capabilities: OptionSet, Sendable, Hashable {
        /// The capabilities' bits.
        public let rawValue: Int

        /// Capabilities of these bits.
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// `INSERT ... RETURNING`.
        public static let returning = Capabilities(rawValue: 1 << 0)
        /// `INSERT ... ON CONFLICT (columns) DO ...` (upsert).
        public static let onConflict = Capabilities(rawValue: 1 << 1)
        /// `ON CONFLICT ON CONSTRAINT name`.
        public static let onConflictOnConstraint = Capabilities(rawValue: 1 << 2)
        /// A written row can say whether it was inserted or updated (PostgreSQL's `xmax = 0`).
        public static let insertFlag = Capabilities(rawValue: 1 << 3)
        /// A list of values can be bound as one array (`key = ANY($1::bigint[])`).
        public static let arrayBinds = Capabilities(rawValue: 1 << 4)
        /// Row values compare as a whole: `(a, b) IS DISTINCT FROM (c, d)`.
        public static let rowValueComparison = Capabilities(rawValue: 1 << 5)
        /// Rows can be bulk-loaded into a temporary table dropped at commit, then upserted from it
        /// in one statement (``SQLBulkLoading``, `CREATE TEMPORARY TABLE ... ON COMMIT DROP`).
        public static let bulkLoadStaging = Capabilities(rawValue: 1 << 6)
        /// Locks held until the end of the transaction (`pg_advisory_xact_lock`).
        public static let transactionAdvisoryLocks = Capabilities(rawValue: 1 << 7)
    }

    /// The database's name: `postgres` or `sqlite`.
    public let name: String
    /// How bind parameters are written.
    public let placeholderStyle: PlaceholderStyle
    /// The most bind parameters one statement may have.
    public let maxBindParameters: Int
    /// The longest identifier in UTF-8 bytes, or `nil` when there is no limit worth checking.
    /// PostgreSQL silently truncates longer ones, so Keel rejects them instead.
    public let maxIdentifierLength: Int?
    /// What the database can do.
    public let capabilities: Capabilities

    /// PostgreSQL: `$n` placeholders, 65,535 binds (the protocol's 16-bit count), identifiers up
    /// to 63 bytes, and every capability (`ON CONFLICT` needs 9.5 or later).
    public static let postgres = SQLDialect(
        name: "postgres", placeholderStyle: .dollarNumbered, maxBindParameters: 65_535, maxIdentifierLength: 63,
        capabilities: [
            .returning, .onConflict, .onConflictOnConstraint, .insertFlag, .arrayBinds, .rowValueComparison,
            .bulkLoadStaging, .transactionAdvisoryLocks,
        ])

    /// SQLite as linked: `?` placeholders; the bind limit the library reports, or its default
    /// (32,766 since 3.32.0, 999 before); `RETURNING` from 3.35.0 and `ON CONFLICT` from 3.24.0.
    ///
    /// - Parameters:
    ///   - versionNumber: `sqlite3_libversion_number()`, such as `3040001` for 3.40.1.
    ///   - maxBindParameters: `sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, -1)` of a connection,
    ///     or `nil` for the version's default.
    public static func sqlite(versionNumber: Int, maxBindParameters: Int? = nil) -> SQLDialect {
        var capabilities: Capabilities = []
        if versionNumber >= 3_035_000 { capabilities.insert(.returning) }
        if versionNumber >= 3_024_000 { capabilities.insert(.onConflict) }
        return SQLDialect(
            name: "sqlite", placeholderStyle: .questionMark,
            maxBindParameters: maxBindParameters ?? (versionNumber >= 3_032_000 ? 32_766 : 999),
            maxIdentifierLength: nil,
            capabilities: capabilities)
    }

    /// Creates a dialect; prefer ``postgres`` and ``sqlite(versionNumber:maxBindParameters:)``.
    public init(
        name: String, placeholderStyle: PlaceholderStyle, maxBindParameters: Int, maxIdentifierLength: Int?,
        capabilities: Capabilities
    ) {
        self.name = name
        self.placeholderStyle = placeholderStyle
        self.maxBindParameters = maxBindParameters
        self.maxIdentifierLength = maxIdentifierLength
        self.capabilities = capabilities
    }

    /// Whether the database has `capability`.
    public func supports(_ capability: Capabilities) -> Bool {
        capabilities.contains(capability)
    }

    /// The placeholder of the bind at a 1-based position: `$3` or `?`.
    public func placeholder(_ position: Int) -> String {
        switch placeholderStyle {
        case .dollarNumbered: "$\(position)"
        case .questionMark: "?"
        }
    }

    /// An identifier in double quotes with embedded quotes doubled, so that keywords
    /// (`select`), spaces and mixed case are taken literally: `a"b` becomes `"a""b"`.
    ///
    /// #### Errors
    /// ``SQLStatementError`` with code ``SQLStatementError/Code/invalidIdentifier`` for an empty
    /// name, a NUL character, or a name longer than ``maxIdentifierLength``.
    public func quoteIdentifier(_ name: String) throws(SQLStatementError) -> String {
        try validateIdentifier(name)
        return SQLDialect.quoted(name)
    }

    /// Checks an identifier against the rules ``quoteIdentifier(_:)`` states.
    public func validateIdentifier(_ name: String) throws(SQLStatementError) {
        if let problem = SQLDialect.identifierProblem(name) {
            throw SQLStatementError(code: .invalidIdentifier, message: problem)
        }
        if let limit = maxIdentifierLength, name.utf8.count > limit {
            throw SQLStatementError(
                code: .invalidIdentifier,
                message: "identifier \(SQLDialect.quoted(name)) is \(name.utf8.count) bytes; \(self.name) allows at most \(limit)")
        }
    }

    /// `postgres` or `sqlite`.
    public var description: String { name }

    /// The ANSI-quoted form of a name, without validation (both dialects quote alike).
    static func quoted(_ name: String) -> String {
        var result = "\""
        result.reserveCapacity(name.utf8.count + 2)
        for character in name.unicodeScalars {
            if character == "\"" { result.unicodeScalars.append("\"") }
            result.unicodeScalars.append(character)
        }
        result.unicodeScalars.append("\"")
        return result
    }

    /// Why a name cannot be an identifier in any dialect, or `nil` when it can.
    static func identifierProblem(_ name: String) -> String? {
        if name.isEmpty { return "an identifier cannot be empty" }
        if name.utf8.contains(0) { return "an identifier cannot contain a NUL character" }
        return nil
    }
}
