/// Splits a CSV stream into records as its chunks arrive, without holding the whole file:
/// RFC 4180 fields (quotes, doubled quotes, commas and line breaks inside quotes), lines ending
/// in `\r\n`, `\n` or a lone `\r`, and a UTF-8 byte-order mark at the start skipped. Nothing is
/// changed silently: a field that is not UTF-8, a quote inside an unquoted field, or anything
/// but a comma or a line end after a closing quote makes the record's ``CSVRecord/problem``.
public struct CSVLineSplitter: Sendable {
    private var field: [UInt8] = []
    private var record: [String] = []
    private var problem: String?
    private var inQuotes = false
    /// The field was quoted and its closing quote was seen.
    private var quoteClosed = false
    private var fieldStarted = false
    /// The last byte outside quotes was a `\r`: a `\n` right after it ends nothing more.
    private var afterCarriageReturn = false
    /// How many bytes of a leading byte-order mark are still to be checked (0 once past it).
    private var byteOrderMarkLeft = 3
    private var pendingMarkBytes: [UInt8] = []
    /// The line the current record started on (1-based).
    public private(set) var line = 1
    private var recordLine = 1

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// An empty splitter.
    public init() {}

    /// Feeds bytes; returns the records they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [CSVRecord] {
        var done: [CSVRecord] = []
        for byte in bytes {
            if byteOrderMarkLeft > 0 {
                let expected = Self.byteOrderMark[3 - byteOrderMarkLeft]
                if byte == expected {
                    byteOrderMarkLeft -= 1
                    pendingMarkBytes.append(byte)
                    continue
                }
                // Not a byte-order mark after all: its bytes are data.
                byteOrderMarkLeft = 0
                let pending = pendingMarkBytes
                pendingMarkBytes = []
                for earlier in pending { take(earlier, into: &done) }
            }
            take(byte, into: &done)
        }
        return done
    }

    private mutating func take(_ byte: UInt8, into done: inout [CSVRecord]) {
        let wasAfterCarriageReturn = afterCarriageReturn
        afterCarriageReturn = false
        if inQuotes {
            if byte == UInt8(ascii: "\"") {
                inQuotes = false
                quoteClosed = true
            } else {
                if byte == UInt8(ascii: "\n") { line += 1 }
                field.append(byte)
            }
            return
        }
        switch byte {
        case UInt8(ascii: "\""):
            if quoteClosed {
                field.append(byte)  // "" inside a quoted field
                inQuotes = true
                quoteClosed = false
            } else if fieldStarted {
                problem = problem ?? "a quote inside an unquoted field (quote the whole field and double its quotes)"
                field.append(byte)
            } else {
                inQuotes = true
                fieldStarted = true
            }
        case UInt8(ascii: ","):
            endField()
        case UInt8(ascii: "\r"):
            endRecord(into: &done)
            afterCarriageReturn = true
        case UInt8(ascii: "\n"):
            if !wasAfterCarriageReturn { endRecord(into: &done) }
        default:
            if quoteClosed { problem = problem ?? "characters after a closing quote (a field is quoted whole or not at all)" }
            fieldStarted = true
            field.append(byte)
        }
    }

    /// Ends the stream: the last record if the file did not end with a line break.
    public mutating func finish() -> CSVRecord? {
        if byteOrderMarkLeft > 0 {
            // The stream ended within what could have been a byte-order mark: its bytes are data
            // (neither is a line end, so no record completes here).
            var done: [CSVRecord] = []
            let pending = pendingMarkBytes
            byteOrderMarkLeft = 0
            pendingMarkBytes = []
            for byte in pending { take(byte, into: &done) }
        }
        guard fieldStarted || !field.isEmpty || !record.isEmpty else { return nil }
        endField()
        defer { record.removeAll() }
        let finished = CSVRecord(line: recordLine, fields: record, problem: problem)
        problem = nil
        return record.count == 1 && record[0].isEmpty && finished.problem == nil ? nil : finished
    }

    /// Whether the stream ended inside a quoted field.
    public var isInsideQuotes: Bool { inQuotes }

    private mutating func endRecord(into done: inout [CSVRecord]) {
        endField()
        if !(record.count == 1 && record[0].isEmpty && problem == nil) {
            done.append(CSVRecord(line: recordLine, fields: record, problem: problem))
        }
        record.removeAll(keepingCapacity: true)
        problem = nil
        line += 1
        recordLine = line
    }

    private mutating func endField() {
        if let text = String(validating: field, as: UTF8.self) {
            record.append(text)
        } else {
            problem = problem ?? "field \(record.count + 1) is not valid UTF-8"
            record.append("")
        }
        field.removeAll(keepingCapacity: true)
        quoteClosed = false
        fieldStarted = false
    }
}
