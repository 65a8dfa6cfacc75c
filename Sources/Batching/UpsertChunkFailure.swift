/// A chunk that failed: which rows it held and the database's error.
public struct UpsertChunkFailure: Sendable {
    /// The chunk's position in the plan.
    public let chunk: Int
    /// The positions, in the input, of the rows it held (none of them was written).
    public let rowIndices: [Int]
    /// The error the database reported.
    public let error: any Error

    /// Creates a failure.
    public init(chunk: Int, rowIndices: [Int], error: any Error) {
        self.chunk = chunk
        self.rowIndices = rowIndices
        self.error = error
    }
}
