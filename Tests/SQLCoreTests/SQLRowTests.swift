import Foundation
import SQLCore
import Testing

@Suite struct SQLRowTests {
    let row = SQLRow(
        columns: SQLColumns(["id", "symbol", "price", "listed_at", "delisted", "meta", "venue"]),
        values: [.int64(7), .text("BTC"), .double(97_000.5), .text("2024-01-02 03:04:05+00"), .null,
                 .json(#"{"tags":["l1","pow"],"rank":1}"#), .text("okx")])

    @Test func readsColumnsByNameAndIndex() throws {
        #expect(try row.decode(Int.self, "id") == 7)
        #expect(try row.decode(Int64.self, at: 0) == 7)
        #expect(try row.decode(String.self, "symbol") == "BTC")
        #expect(try row.decode(Double.self, "price") == 97_000.5)
        #expect(try row.decode(Date.self, "listed_at") == Date(timeIntervalSince1970: 1_704_164_645))
        #expect(try row.decode(Date?.self, "delisted") == nil)
        #expect(row["symbol"] == .text("BTC"))
        #expect(row["nope"] == nil)
        #expect(row[2] == .double(97_000.5))
        #expect(row.count == 7)
    }

    @Test func aMissingColumnErrorNamesTheColumnAndListsTheOthers() {
        #expect {
            try row.decode(Double.self, "pirce")
        } throws: { error in
            let error = error as! SQLDecodingError
            return error.code == .missingColumn && error.column == "\"pirce\""
                && error.description.contains("\"pirce\"") && error.description.contains("price")
                && error.description.contains("Double")
        }
        #expect(throws: SQLDecodingError.self) { try row.decode(Int.self, at: 99) }
    }

    @Test func aTypeMismatchNamesColumnExpectedTypeAndFoundKind() {
        #expect {
            try row.decode(Int.self, "symbol")
        } throws: { error in
            let error = error as! SQLDecodingError
            return error.code == .typeMismatch
                && error.description == #"cannot decode column "symbol" as Int: found text"#
        }
        #expect {
            try row.decode(String.self, "delisted")
        } throws: { error in
            (error as! SQLDecodingError).description == #"cannot decode column "delisted" as String: found null"#
        }
    }

    @Test func mismatchMessagesNeverContainTheValue() {
        let secretRow = SQLRow(columns: SQLColumns(["password"]), values: [.text("hunter2")])
        #expect {
            try secretRow.decode(Int.self, "password")
        } throws: { error in
            !"\(error)".contains("hunter2")
        }
        #expect(!secretRow.description.contains("hunter2"))
        #expect(secretRow.description == "(password: text(7 bytes))")
    }

    struct Token: Decodable, Equatable {
        enum Venue: String, Decodable { case okx, binance }
        struct Meta: Decodable, Equatable {
            let tags: [String]
            let rank: Int
        }

        let id: Int
        let symbol: String
        let price: Double?
        let listedAt: Date
        let delisted: Date?
        let meta: Meta
        let venue: Venue
        let missing: String?

        enum CodingKeys: String, CodingKey {
            case id, symbol, price, listedAt = "listed_at", delisted, meta, venue, missing
        }
    }

    @Test func decodesADecodableStructByColumnNames() throws {
        let token = try row.decode(Token.self)
        #expect(
            token
                == Token(
                    id: 7, symbol: "BTC", price: 97_000.5, listedAt: Date(timeIntervalSince1970: 1_704_164_645),
                    delisted: nil, meta: .init(tags: ["l1", "pow"], rank: 1), venue: .okx, missing: nil))
    }

    @Test func decodingAStructReportsTheFailingColumn() {
        struct Wrong: Decodable { let symbol: Int }
        #expect {
            try row.decode(Wrong.self)
        } throws: { error in
            (error as? SQLDecodingError)?.column == "\"symbol\""
        }
        struct Absent: Decodable { let volume: Double }
        #expect {
            try row.decode(Absent.self)
        } throws: { error in
            (error as? SQLDecodingError)?.code == .missingColumn
        }
    }

    @Test func duplicateColumnNamesFindTheFirst() throws {
        let joined = SQLRow(columns: SQLColumns(["id", "id"]), values: [.int64(1), .int64(2)])
        #expect(try joined.decode(Int.self, "id") == 1)
        #expect(try joined.decode(Int.self, at: 1) == 2)
    }
}
