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
    /// Rejected rows; when any, nothing was written.
    public var errors: [RowError]
}
