/// A statement ready for a backend: SQL text with the dialect's placeholders, and the binds.
///
/// Produced by ``SQLStatement/render(for:)``. Its ``description`` never shows bind values.
public struct SQLRenderedStatement: Sendable, Hashable, CustomStringConvertible {
    /// The SQL text, placeholders included.
    public let sql: String
    /// The bind parameters, in placeholder order.
    public let binds: [SQLValue]

    /// Creates a rendered statement.
    public init(sql: String, binds: [SQLValue]) {
        self.sql = sql
        self.binds = binds
    }

    /// The SQL and the number of binds.
    public var description: String {
        binds.count == 1 ? "\(sql) [1 bind]" : "\(sql) [\(binds.count) binds]"
    }
}
