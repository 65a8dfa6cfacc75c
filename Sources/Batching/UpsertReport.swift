public import SQLCore

/// What a batch upsert did.
///
/// ```swift
/// let report = try await upsert.run(rows, on: database)
/// print(report)   // 530 rows: 12 inserted, 40 updated, 478 unchanged, 0 duplicates, 6 chunks in 8.1 ms
/// ```
public struct UpsertReport: Sendable, CustomStringConvertible {
    /// The number of input rows.
    public var rowsReceived = 0
    /// Rows dropped because a later row had the same key.
    public var duplicatesRemoved = 0
    /// Rows in committed chunks.
    public var rowsCommitted = 0
    /// Rows inserted or updated (the rest of the committed rows were left unchanged: a conflict with
    /// `DO NOTHING`, a false update condition, or identical values).
    public var rowsWritten = 0
    /// Rows inserted (PostgreSQL only; `nil` on SQLite, which cannot tell).
    public var inserted: Int?
    /// Rows updated (PostgreSQL only).
    public var updated: Int?
    /// The statements in the plan.
    public var chunks = 0
    /// The statements committed.
    public var chunksCommitted = 0
    /// Whether the PostgreSQL fast path (`COPY` into a temporary table, then one upsert) was used.
    public var usedFastPath = false
    /// The time from the first statement to the last.
    public var duration: Duration = .zero
    /// The rows of ``Upsert/returning``, in chunk order.
    public var returnedRows: [SQLRow] = []
    /// The positions, in the input, of the rows in committed chunks.
    public var committedRowIndices: [Int] = []
    /// The chunks that failed (with ``BatchFailurePolicy/continue``).
    public var failures: [UpsertChunkFailure] = []

    /// Creates an empty report.
    public init() {}

    /// Committed rows that were left as they were.
    public var rowsUnchanged: Int { rowsCommitted - rowsWritten }

    /// The counts and the duration, one line.
    public var description: String {
        let written =
            if let inserted, let updated { "\(inserted) inserted, \(updated) updated" } else { "\(rowsWritten) written" }
        var text = "\(rowsReceived) rows: \(written), \(rowsUnchanged) unchanged, \(duplicatesRemoved) duplicates, "
            + "\(chunksCommitted)/\(chunks) chunks in \(duration)"
        if !failures.isEmpty { text += ", \(failures.count) failed chunks" }
        return text
    }
}
