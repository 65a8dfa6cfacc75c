public import SQLCore

/// Deletes every row whose key is in a list: the batch form of `DELETE FROM t WHERE key = ...`.
///
/// ```swift
/// let removed = try await KeyedDelete(table: "sessions", keyColumn: "id").run(keys: expiredIDs, on: database)
/// ```
///
/// Chunked like ``KeyedUpdate``: `WHERE key = ANY($1::type[])` on PostgreSQL, `WHERE key IN (?, ...)`
/// under the bind limit on SQLite, keys deduplicated and sorted first.
public struct KeyedDelete: Sendable, Hashable {
    /// The table.
    public var table: String
    /// The column the keys are matched against.
    public var keyColumn: String
    /// An extra condition a row must meet to be deleted, joined with `AND`.
    public var condition: SQLStatement?
    /// The most keys per statement. Default 1,000 (fewer on SQLite when the bind limit needs it).
    public var chunkSize = 1_000

    /// A delete of the rows whose `keyColumn` is among the keys given to ``run(keys:on:transaction:)``.
    public init(table: String, keyColumn: String) {
        self.table = table
        self.keyColumn = keyColumn
    }

    /// The statements that delete the rows of `keys`, one per chunk, without a database.
    ///
    /// #### Errors
    /// ``BatchError``: an invalid name, a NULL key, or a chunk size below 1.
    public func statements(for keys: [SQLValue], dialect: SQLDialect) throws(BatchError) -> [SQLStatement] {
        let prefix = SQLStatement(unsafeRaw: "DELETE FROM \(try BatchIdentifier.quoted(table, what: "table", dialect: dialect))")
        let quotedKey = try BatchIdentifier.quoted(keyColumn, what: "key column", dialect: dialect)
        let keys = try KeyFilter.prepare(keys, column: keyColumn)
        return try KeyFilter.statements(
            prefix: prefix, quotedKey: quotedKey, keys: keys, condition: condition, chunkSize: chunkSize, dialect: dialect)
    }

    /// Deletes the rows whose key is among `keys` and returns how many were deleted.
    ///
    /// Repeated keys count once; an empty list sends nothing. With ``BatchTransaction/whole`` (the
    /// default) all chunks commit together or not at all.
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
