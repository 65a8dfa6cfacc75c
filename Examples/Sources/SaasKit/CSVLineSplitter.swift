/// Splits a CSV stream into records as its chunks arrive, without holding the whole file:
/// RFC 4180 fields (quotes, doubled quotes, commas and line breaks inside quotes), `\n` or `\r\n`.
public struct CSVLineSplitter: Sendable {
    private var field: [UInt8] = []
    private var record: [String] = []
    private var inQuotes = false
    private var quoteSeen = false
    private var fieldStarted = false
    /// The line the current record started on (1-based).
    public private(set) var line = 1
    private var recordLine = 1

    /// An empty splitter.
    public init() {}

    /// Feeds bytes; returns the records they complete, each with its first line number.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [(line: Int, fields: [String])] {
        var done: [(Int, [String])] = []
        for byte in bytes {
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    inQuotes = false
                    quoteSeen = true
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                if quoteSeen { field.append(byte) }  // "" inside a quoted field
                inQuotes = true
                quoteSeen = false
                fieldStarted = true
            case UInt8(ascii: ","):
                endField()
            case UInt8(ascii: "\r"):
                break
            case UInt8(ascii: "\n"):
                endField()
                if !(record.count == 1 && record[0].isEmpty) { done.append((recordLine, record)) }
                record.removeAll(keepingCapacity: true)
                line += 1
                recordLine = line
            default:
                quoteSeen = false
                fieldStarted = true
                field.append(byte)
            }
        }
        return done
    }

    /// Ends the stream: the last record if the file did not end with a line break.
    public mutating func finish() -> (line: Int, fields: [String])? {
        guard fieldStarted || !field.isEmpty || !record.isEmpty else { return nil }
        endField()
        defer { record.removeAll() }
        return record.count == 1 && record[0].isEmpty ? nil : (recordLine, record)
    }

    /// Whether the stream ended inside a quoted field.
    public var isInsideQuotes: Bool { inQuotes }

    private mutating func endField() {
        record.append(String(decoding: field, as: UTF8.self))
        field.removeAll(keepingCapacity: true)
        quoteSeen = false
        fieldStarted = false
    }
}
