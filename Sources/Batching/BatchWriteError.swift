/// A batch stopped at a failing chunk (``BatchFailurePolicy/stop``): the database's error, the
/// chunk, and the report of what was committed before it.
public struct BatchWriteError: Error, CustomStringConvertible {
    /// What was committed before the failure (nothing under ``BatchTransaction/whole``).
    public let report: UpsertReport
    /// The failing chunk and its error.
    public let failure: UpsertChunkFailure

    /// Creates an error.
    public init(report: UpsertReport, failure: UpsertChunkFailure) {
        self.report = report
        self.failure = failure
    }

    /// Which chunk failed, how many rows were committed, and the database's error.
    public var description: String {
        "the batch stopped at chunk \(failure.chunk + 1) of \(report.chunks) (\(failure.rowIndices.count) rows); "
            + "\(report.rowsCommitted) rows were committed before it: \(failure.error)"
    }
}
