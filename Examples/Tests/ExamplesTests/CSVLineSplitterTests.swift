import SaasKit
import Testing

/// The CSV splitter changes nothing silently, whole or fed a byte at a time.
@Suite struct CSVLineSplitterTests {
    /// The records of `bytes`, fed whole and fed one byte at a time (the two must agree).
    static func records(_ bytes: [UInt8]) -> [CSVRecord] {
        var whole = CSVLineSplitter()
        var wholeRecords = whole.feed(bytes)
        if let last = whole.finish() { wholeRecords.append(last) }
        var bytewise = CSVLineSplitter()
        var bytewiseRecords: [CSVRecord] = []
        for byte in bytes { bytewiseRecords += bytewise.feed([byte]) }
        if let last = bytewise.finish() { bytewiseRecords.append(last) }
        #expect(wholeRecords == bytewiseRecords)
        return wholeRecords
    }

    static func records(_ text: String) -> [CSVRecord] { records(Array(text.utf8)) }

    @Test func quotedFieldsKeepCommasQuotesAndLineBreaks() {
        #expect(Self.records("a,\"b, \"\"c\"\"\nd\",e\n") == [CSVRecord(line: 1, fields: ["a", "b, \"c\"\nd", "e"])])
    }

    @Test func everyKindOfLineEndEndsARecordAndBlankLinesAreSkipped() {
        let expected = [CSVRecord(line: 1, fields: ["a", "1"]), CSVRecord(line: 2, fields: ["b", "2"]), CSVRecord(line: 3, fields: ["c", "3"])]
        #expect(Self.records("a,1\r\nb,2\r\nc,3\r\n") == expected)
        #expect(Self.records("a,1\rb,2\rc,3") == expected)
        #expect(Self.records("a,1\nb,2\nc,3\n") == expected)
        #expect(Self.records("a,1\n\nb,2\n").map(\.fields) == [["a", "1"], ["b", "2"]])
    }

    @Test func aByteOrderMarkAtTheStartIsSkippedAndNowhereElse() {
        #expect(Self.records([0xEF, 0xBB, 0xBF] + Array("email\nx\n".utf8)).map(\.fields) == [["email"], ["x"]])
        #expect(Self.records([0xEF, 0xBB, 0x41] + Array("\n".utf8)).first?.problem != nil, "a broken mark is data, and not UTF-8")
        #expect(Self.records(Array("a\n".utf8) + [0xEF, 0xBB, 0xBF]).last?.fields == ["\u{FEFF}"])
    }

    @Test func bytesThatAreNotUTF8AreTheRecordsProblemNotAReplacementCharacter() {
        let records = Self.records(Array("ok,1\nbad,".utf8) + [0xFF, 0xFE] + Array("\nok,2\n".utf8))
        #expect(records.map(\.problem) == [nil, "field 2 is not valid UTF-8", nil])
        #expect(records[1].line == 2)
    }

    @Test func aQuoteOutOfPlaceIsTheRecordsProblem() {
        #expect(Self.records("a,Ann \"The\" Smith\n").first?.problem?.contains("quote inside an unquoted field") == true)
        #expect(Self.records("a,\"Ann\"x\n").first?.problem?.contains("after a closing quote") == true)
        #expect(Self.records("a,\"Ann\"\n").first?.problem == nil)
    }
}
