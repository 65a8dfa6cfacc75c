/// What a ``SQLiteDatabase`` is doing right now.
///
/// ```swift
/// let statistics = database.statistics
/// print("writes: \(statistics.runningWrites) running, \(statistics.queuedWrites) queued")
/// ```
public struct SQLiteStatistics: Sendable, Hashable, CustomStringConvertible {
    /// Writes (statements, `write` closures, transactions) waiting for the writer.
    public var queuedWrites: Int
    /// Writes running on the writer: 0 or 1.
    public var runningWrites: Int
    /// Reads waiting for a free reader (0 in memory, where reads queue as writes).
    public var queuedReads: Int
    /// Reads running on readers.
    public var runningReads: Int
    /// The number of reader connections (0 in memory).
    public var readerCount: Int

    /// Creates statistics.
    public init(queuedWrites: Int, runningWrites: Int, queuedReads: Int, runningReads: Int, readerCount: Int) {
        self.queuedWrites = queuedWrites
        self.runningWrites = runningWrites
        self.queuedReads = queuedReads
        self.runningReads = runningReads
        self.readerCount = readerCount
    }

    /// `writes 1 running 3 queued, reads 2 running 0 queued on 2 readers`.
    public var description: String {
        "writes \(runningWrites) running \(queuedWrites) queued, reads \(runningReads) running \(queuedReads) queued on \(readerCount) readers"
    }
}
