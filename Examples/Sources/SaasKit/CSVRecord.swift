/// One record of a CSV stream: its fields, or why it cannot be read.
public struct CSVRecord: Sendable, Equatable {
    /// The line the record starts on (1-based).
    public var line: Int
    /// The fields, unquoted.
    public var fields: [String]
    /// Why the record cannot be read (bytes that are not UTF-8, a quote out of place); `nil` when
    /// it can. Its fields are then not to be used.
    public var problem: String?

    /// A record of `fields` from `line`, readable unless `problem` says otherwise.
    public init(line: Int, fields: [String], problem: String? = nil) {
        self.line = line
        self.fields = fields
        self.problem = problem
    }
}
