public import SQLCore

/// The temporary table a fast-path chunk's rows are loaded into before one
/// `INSERT ... SELECT ... ON CONFLICT` moves them into the table (PostgreSQL).
///
/// The chunk runs in a transaction on one connection: ``create``, then `COPY` of the chunk's rows
/// into ``table`` (`SQLBulkLoading`), then the chunk's statement, then ``drop``.
public struct UpsertStaging: Sendable, Hashable {
    /// The temporary table's name.
    public let table: String
    /// Creates the temporary table with the upsert's columns, typed as in the target table, and
    /// dropped at commit: `CREATE TEMPORARY TABLE ... ON COMMIT DROP AS SELECT ... WITH NO DATA`.
    public let create: SQLStatement
    /// Drops the temporary table once the chunk is written (another chunk of the same transaction
    /// creates it again).
    public let drop: SQLStatement

    /// Describes a staging table.
    public init(table: String, create: SQLStatement, drop: SQLStatement) {
        self.table = table
        self.create = create
        self.drop = drop
    }
}
