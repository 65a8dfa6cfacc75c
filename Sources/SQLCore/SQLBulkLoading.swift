/// A database that loads many rows in one bulk operation (PostgreSQL's `COPY ... FROM STDIN`),
/// much faster than inserting them with statements.
///
/// Code written against ``SQLDatabase`` checks for it at run time, as Batching's upsert fast path
/// does, and falls back to statements when the database does not conform:
///
/// ```swift
/// try await database.transaction { db in
///     if let loader = db as? any SQLBulkLoading {
///         _ = try await loader.copy(into: "prices", columns: ["symbol", "price"], rows: rows)
///     }
/// }
/// ```
///
/// A backend whose ``SQLDatabase/transaction(_:)`` hands its body a database conforms there too,
/// so a load can share a transaction (and a temporary table) with other statements.
public protocol SQLBulkLoading: SQLDatabase {
    /// Loads `rows` (one value per column, in column order) into `table`'s `columns` and returns
    /// how many were loaded. All or nothing: when it throws, no row was loaded.
    func copy(into table: String, columns: [String], rows: some Sequence<[SQLValue]> & Sendable) async throws -> Int
}
