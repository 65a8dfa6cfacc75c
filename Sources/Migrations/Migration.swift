public import SQLCore

/// One step of a schema: a version, a name, and the statements that take the schema from the
/// version before to this one.
///
/// ```swift
/// let createTokens = Migration(version: 1, name: "create tokens", statements: [
///     "CREATE TABLE tokens (symbol TEXT PRIMARY KEY, price DOUBLE PRECISION)",
///     "CREATE INDEX tokens_price ON tokens (price)",
/// ])
/// ```
///
/// A step's checksum is computed from its version, name and SQL text as rendered for the
/// database's dialect. Once a step is applied, changing any of them is an error the next time the
/// migrator runs (``MigrationError/Code/changedAfterApplied``): add a new step instead.
public struct Migration: Sendable {
    /// The position of the step: steps run in ascending order of version. Positive and unique.
    public let version: Int
    /// What the step does, recorded with it.
    public let name: String
    private let makeStatements: @Sendable (SQLDialect) -> [SQLStatement]

    /// A step that runs `statements`, one after the other, on every database.
    public init(version: Int, name: String, statements: [SQLStatement]) {
        self.version = version
        self.name = name
        makeStatements = { _ in statements }
    }

    /// A step whose statements depend on the dialect (a column type that differs between
    /// PostgreSQL and SQLite, say).
    public init(version: Int, name: String, statements: @escaping @Sendable (SQLDialect) -> [SQLStatement]) {
        self.version = version
        self.name = name
        makeStatements = statements
    }

    /// The statements this step runs on a database of `dialect`.
    public func statements(for dialect: SQLDialect) -> [SQLStatement] {
        makeStatements(dialect)
    }

    /// The step's checksum for `dialect`: a 64-bit FNV-1a hash, in hexadecimal, of its version,
    /// name and rendered SQL (bind values are not part of it).
    ///
    /// #### Errors
    /// `SQLStatementError` when a statement does not render for `dialect`.
    public func checksum(for dialect: SQLDialect) throws(SQLStatementError) -> String {
        var hash = FNV1a()
        hash.mix(String(version))
        hash.mix(name)
        for statement in statements(for: dialect) {
            let rendered = try statement.render(for: dialect)
            hash.mix(rendered.sql)
            hash.mix(String(rendered.binds.count))
        }
        let digits = String(hash.value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
