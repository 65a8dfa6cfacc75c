public import SQLCore

/// An `INSERT ... ON CONFLICT` of many rows: the table, the columns, what identifies a row
/// (the conflict target) and what to do when it already exists.
///
/// ```swift
/// var upsert = Upsert(table: "tokens", columns: ["symbol", "price", "seen_at"], conflictColumns: ["symbol"])
/// upsert.action = .update(["price", "seen_at"])
/// upsert.updateCondition = "tokens.seen_at < excluded.seen_at"   // only when the incoming row is newer
/// let report = try await upsert.run(rows, on: database)
/// ```
///
/// Rows are `[[SQLValue]]`, one value per column in column order; map your models with
/// ``run(_:on:transaction:failure:values:)`` and a closure returning each model's values. Before any
/// SQL is built, rows whose conflict keys repeat collapse into the last one, and rows are sorted by
/// key so that concurrent writers lock rows in the same order (no deadlocks). Chunks hold
/// ``chunkSize`` rows, fewer when the dialect's bind limit (read from the live connection) needs it.
public struct Upsert: Sendable, Hashable {
    /// What identifies an existing row.
    public enum ConflictTarget: Sendable, Hashable {
        /// A unique index or constraint on these columns; with `predicate`, a partial unique index
        /// (`ON CONFLICT (symbol) WHERE active`).
        case columns([String], predicate: SQLStatement? = nil)
        /// A named constraint (PostgreSQL only), and its columns, which duplicate removal and
        /// sorting use.
        case constraint(String, columns: [String])
    }

    /// What a conflicting row does.
    public enum Action: Sendable, Hashable {
        /// Nothing: the existing row stays as it is.
        case doNothing
        /// Sets these columns to the incoming row's values (`col = EXCLUDED.col`).
        case update([String])
        /// Sets each column to an expression (`\(unsafeRaw: ...)` fragments may refer to
        /// `EXCLUDED.col` and to the table's columns).
        case updateExpressions([String: SQLStatement])
        /// Sets every column that is not part of the conflict target to the incoming value.
        case updateAllExceptKeys
    }

    /// The table.
    public var table: String
    /// The columns every row gives values for, in order.
    public var columns: [String]
    /// What identifies an existing row.
    public var conflictTarget: ConflictTarget
    /// What a conflicting row does. Default ``Action/updateAllExceptKeys``.
    public var action: Action = .updateAllExceptKeys
    /// An extra condition on the update (`WHERE` of `DO UPDATE`): a conflicting row whose condition
    /// is false is left alone. Refer to the existing row by the table's name and to the incoming one
    /// by `EXCLUDED`.
    public var updateCondition: SQLStatement?
    /// Whether a conflicting row whose updated columns already hold the incoming values is left
    /// alone (`WHERE (t.a, t.b) IS DISTINCT FROM (EXCLUDED.a, EXCLUDED.b)`), so a re-sync of
    /// unchanged data writes nothing. Default `true`.
    public var skipsUnchangedRows = true
    /// Columns to return for every inserted or updated row.
    public var returning: [String] = []
    /// The most rows per statement. Default 100.
    public var chunkSize = 100
    /// Whether rows are sorted by conflict key before chunking, so concurrent writers lock rows in
    /// the same order. Default `true`.
    public var sortsByKey = true
    /// Whether a NULL conflict-key value is accepted (such a row is always inserted). Default `false`.
    public var allowsNullKeys = false
    /// Whether large batches on PostgreSQL take the fast path: each chunk of ``fastPathChunkSize``
    /// rows is copied (`COPY FROM STDIN`) into a temporary table, then moved into the table by one
    /// `INSERT ... SELECT ... ON CONFLICT` with a constant SQL text, in one transaction. Used when a
    /// batch has at least ``fastPathThreshold`` rows and the database loads rows in bulk
    /// (`SQLBulkLoading`). The rows are upserted in the order they were copied (sorted
    /// by key with ``sortsByKey``), and values are typed by the table's columns. The temporary table
    /// lives within the chunk's transaction, so PgBouncer's transaction mode is fine; the role
    /// needs the `TEMPORARY` privilege (PostgreSQL grants it to everyone by default). Default `true`.
    public var usesFastPath = true
    /// The smallest batch that takes the fast path. Default 1,000 rows.
    public var fastPathThreshold = 1_000
    /// The rows per fast-path chunk (each one copied, upserted and committed as a unit). Default 10,000.
    public var fastPathChunkSize = 10_000
    /// How many chunks a ``BatchTransaction/perChunk`` batch sends in one round trip on a database
    /// that pipelines (`SQLPipelining`: PostgreSQL). The chunks of one round trip commit
    /// together; when one fails, they are run again one at a time, so exactly the chunks before the
    /// failing one are kept, as without pipelining. 1 sends one chunk at a time. Default 8.
    public var chunksPerRoundTrip = 8

    /// An upsert on a unique index over `conflictColumns`.
    public init(table: String, columns: [String], conflictColumns: [String]) {
        self.table = table
        self.columns = columns
        conflictTarget = .columns(conflictColumns)
    }

    /// An upsert on any conflict target.
    public init(table: String, columns: [String], conflictTarget: ConflictTarget) {
        self.table = table
        self.columns = columns
        self.conflictTarget = conflictTarget
    }

    /// The columns that identify a row.
    public var keyColumns: [String] {
        switch conflictTarget {
        case .columns(let columns, _): columns
        case .constraint(_, let columns): columns
        }
    }
}
