public import SQLCore

/// One statement of a batch and the input rows it writes.
public struct UpsertChunk: Sendable, Hashable {
    /// The statement: every full chunk of a batch has the same SQL text, so backends reuse the
    /// prepared statement. A fast-path chunk's statement reads its rows from ``staging``'s table.
    public let statement: SQLStatement
    /// The positions, in the input, of the rows this chunk writes.
    public let rowIndices: [Int]
    /// The temporary table a fast-path chunk's rows are copied into first, or `nil` when the
    /// statement carries the rows as binds.
    public let staging: UpsertStaging?
    /// The rows a fast-path chunk copies into ``staging``, in ``rowIndices`` order; empty when the
    /// statement carries the rows as binds. With them a plan runs on its own
    /// (``Upsert/run(plan:on:transaction:failure:)``).
    public let stagedRows: [[SQLValue]]

    /// Whether it is a PostgreSQL fast-path chunk (rows copied into ``staging`` first).
    public var usesFastPath: Bool { staging != nil }

    /// Creates a chunk.
    public init(statement: SQLStatement, rowIndices: [Int], staging: UpsertStaging? = nil, stagedRows: [[SQLValue]] = []) {
        self.statement = statement
        self.rowIndices = rowIndices
        self.staging = staging
        self.stagedRows = stagedRows
    }
}
