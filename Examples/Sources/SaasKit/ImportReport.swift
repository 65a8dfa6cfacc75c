public import Hummingbird

/// The answer to a CSV upload: what was received and written, or each rejected row.
public struct ImportReport: ResponseCodable, Sendable {
    /// One rejected row.
    public struct RowError: Codable, Sendable, Equatable {
        /// The line number in the file (the header is line 1).
        public var line: Int
        /// Why.
        public var message: String
    }

    /// Data rows received.
    public var received: Int
    /// Leads created.
    public var inserted: Int
    /// Existing leads (same email) updated.
    public var updated: Int
    /// Rows repeated in the file (the last one wins).
    public var duplicates: Int
    /// Rejected rows, the first ``maximumErrorsReported``; when any, nothing was written.
    public var errors: [RowError]
    /// How many rows were rejected in all (``errors`` holds the first of them).
    public var errorCount: Int

    /// How many rejected rows a report lists at most: a large file of bad rows is answered with
    /// a report of bounded size.
    public static let maximumErrorsReported = 100

    /// A report of `received` rows.
    public init(received: Int, inserted: Int, updated: Int, duplicates: Int, errors: [RowError], errorCount: Int? = nil) {
        self.received = received
        self.inserted = inserted
        self.updated = updated
        self.duplicates = duplicates
        self.errors = errors
        self.errorCount = errorCount ?? errors.count
    }
}
