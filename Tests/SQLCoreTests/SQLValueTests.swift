import Foundation
import SQLCore
import Testing

@Suite struct SQLValueTests {
    @Test func descriptionNamesTheKindButNeverTheContent() {
        let secret = "correct horse battery staple"
        #expect(SQLValue.text(secret).description == "text(28 bytes)")
        #expect(SQLValue.json(#"{"k":"v"}"#).description == "json(9 bytes)")
        #expect(SQLValue.blob([1, 2]).description == "blob(2 bytes)")
        #expect(SQLValue.int64(123_456).description == "int64")
        #expect(SQLValue.null.description == "NULL")
        #expect(!"\([SQLValue.text(secret)])".contains(secret))
        #expect(SQLValue.text(secret).unredactedDescription.contains(secret))
        #expect(SQLValue.int64(5).unredactedDescription == "int64(5)")
    }

    @Test func valuesAreHashable() {
        let uuid = UUID()
        let set: Set<SQLValue> = [.int64(1), .int64(1), .text("a"), .uuid(uuid), .uuid(uuid), .null]
        #expect(set.count == 4)
    }

    @Test func conversionsAreStrict() {
        #expect(Int32(sqlValue: .int64(Int64(Int32.max) + 1)) == nil)
        #expect(Int(sqlValue: .text("1")) == nil)
        #expect(Bool(sqlValue: .int64(2)) == nil)
        #expect(Bool(sqlValue: .int64(1)) == true)
        #expect(Double(sqlValue: .int64(3)) == 3)
        #expect(Double(sqlValue: .int64(Int64.max - 1)) == nil, "not exactly representable")
        #expect(String(sqlValue: .null) == nil)
        #expect(String?(sqlValue: .null) == .some(nil))
        #expect(Int?(sqlValue: .text("x")) == nil)
        #expect(UUID(sqlValue: .text("not a uuid")) == nil)
        #expect(Date(sqlValue: .text("yesterday")) == nil)
    }

    @Test func uuidsAndDatesReadFromTheirTextAndByteForms() {
        let uuid = UUID()
        #expect(UUID(sqlValue: .text(uuid.uuidString)) == uuid)
        let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
        #expect(UUID(sqlValue: .blob(bytes)) == uuid)
        #expect(Date(sqlValue: .text("1970-01-01 00:00:10+00")) == Date(timeIntervalSince1970: 10))
    }
}
