public import SQLCore

/// One statement of a batch and the input rows it writes.
public struct UpsertChunk: Sendable, Hashable {
    /// The statement: every full chunk of a batch has the same SQL text, so backends reuse the
    /// prepared statement.
    public let statement: SQLStatement
    /// The positions, in the input, of the rows this chunk writes.
    public let rowIndices: [Int]
    /// Whether it is a PostgreSQL `unnest` statement (one array bind per column).
    public let usesFastPath: Bool

    /// Creates a chunk.
    public init(statement: SQLStatement, rowIndices: [Int], usesFastPath: Bool) {
        self.statement = statement
        self.rowIndices = rowIndices
        self.usesFastPath = usesFastPath
    }
}
