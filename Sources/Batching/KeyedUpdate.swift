public import SQLCore

/// Sets the same values on every row whose key is in a list: the batch form of
/// `UPDATE t SET ... WHERE key = ...` (marking delisted tokens, closing expired sessions).
///
/// ```swift
/// var delist = KeyedUpdate(table: "tokens", keyColumn: "symbol", values: ["status": .text("delisted")])
/// delist.expressions = ["delisted_at": "CURRENT_TIMESTAMP"]
/// delist.condition = "status <> 'delisted'"
/// let marked = try await delist.run(keys: known.subtracting(listed), on: database)
/// ```
///
/// On PostgreSQL each chunk is `UPDATE t SET ... WHERE key = ANY($n::type[])`: one array bind and
/// the same SQL text for every chunk. On SQLite it is `WHERE key IN (?, ...)`, chunked under the
/// connection's bind limit. Keys are deduplicated and sorted first, so concurrent batches lock rows
/// in the same order; values are always binds.
public struct KeyedUpdate: Sendable, Hashable {
    /// The table.
    public var table: String
    /// The column the keys are matched against.
    public var keyColumn: String
    /// Columns set to values (sent as binds).
    public var values: [String: SQLValue]
    /// Columns set to SQL expressions (`"CURRENT_TIMESTAMP"`, `"hits + 1"`), written as they are.
    public var expressions: [String: SQLStatement] = [:]
    /// An extra condition a row must meet to be updated, joined with `AND`.
    public var condition: SQLStatement?
    /// The most keys per statement. Default 1,000 (fewer on SQLite when the bind limit needs it).
    public var chunkSize = 1_000

    /// An update of `values` on the rows whose `keyColumn` is among the keys given to ``run(keys:on:transaction:)``.
    public init(table: String, keyColumn: String, values: [String: SQLValue]) {
        self.table = table
        self.keyColumn = keyColumn
        self.values = values
    }

    /// The statements that update the rows of `keys`, one per chunk, without a database.
    ///
    /// #### Errors
    /// ``BatchError``: an invalid name, nothing to set, a column both in ``values`` and
    /// ``expressions``, a NULL key, or a chunk size below 1.
    public func statements(for keys: [SQLValue], dialect: SQLDialect) throws(BatchError) -> [SQLStatement] {
        let quotedTable = try BatchIdentifier.quoted(table, what: "table", dialect: dialect)
        let quotedKey = try BatchIdentifier.quoted(keyColumn, what: "key column", dialect: dialect)
        guard !values.isEmpty || !expressions.isEmpty else {
            throw BatchError(code: .emptyColumns, message: "the update of \(table) sets no column")
        }
        if let both = values.keys.sorted().first(where: { expressions[$0] != nil }) {
            throw BatchError(code: .duplicateColumn, message: "column \(both) is set both to a value and to an expression")
        }
        var prefix = SQLStatement(unsafeRaw: "UPDATE \(quotedTable) SET ")
        let assignments = values.mapValues { value in
            var bind = SQLStatement()
            bind.append(bind: value)
            return bind
        }.merging(expressions) { value, _ in value }
        for (position, (column, assignment)) in assignments.sorted(by: { $0.key < $1.key }).enumerated() {
            if position > 0 { prefix.append(unsafeRaw: ", ") }
            prefix.append(unsafeRaw: "\(try BatchIdentifier.quoted(column, what: "column", dialect: dialect)) = ")
            prefix.append(assignment)
        }
        let keys = try KeyFilter.prepare(keys, column: keyColumn)
        return try KeyFilter.statements(
            prefix: prefix, quotedKey: quotedKey, keys: keys, condition: condition, chunkSize: chunkSize, dialect: dialect)
    }

    /// Updates the rows whose key is among `keys` and returns how many were updated.
    ///
    /// Repeated keys count once; an empty list sends nothing. With ``BatchTransaction/whole`` (the
    /// default) all chunks commit together or not at all; with ``BatchTransaction/perChunk`` each
    /// commits on its own.
    ///
    /// #### Errors
    /// ``BatchError`` before anything is sent; the database's error; `CancellationError`.
    @discardableResult
    public func run<Key: SQLValueEncodable>(
        keys: some Sequence<Key>, on database: any SQLDatabase, transaction: BatchTransaction = .whole
    ) async throws -> Int {
        let statements = try statements(for: keys.map(\.sqlValue), dialect: database.dialect)
        return try await KeyFilter.run(statements, on: database, transaction: transaction)
    }
}
