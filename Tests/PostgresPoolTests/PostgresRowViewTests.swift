import Foundation
import KeelTesting
import PostgresPool
import SQLCore
import Testing

extension PostgresServerTests {
    /// `query(_:rowsAs:)` decodes each row where libpq holds it, to the values `query(_:)` gives.
    @Suite(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
    struct PostgresRowViewTests {
        struct Token: Equatable {
            let id: Int64
            let symbol: String
            let price: Double?
            let listed: Date
        }

        static let tokens: SQLStatement = """
            SELECT g::int8 AS id, 'T' || g AS symbol, CASE WHEN g % 2 = 0 THEN NULL ELSE g * 1.5 END::float8 AS price,
                '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 day' AS listed
            FROM generate_series(1, \(Int64(50))) AS g ORDER BY g
            """

        static func token(_ row: borrowing PostgresRowView) throws -> Token {
            Token(
                id: try row.decode(Int64.self, "id"), symbol: try row.decode(String.self, at: 1),
                price: try row.decode(Double?.self, "price"), listed: try row.decode(Date.self, "listed"))
        }

        static let expected: [Token] = (1...50).map { (number: Int) -> Token in
            let price: Double? = number % 2 == 0 ? nil : Double(number) * 1.5
            let listed = Date(timeIntervalSince1970: 1_704_067_200 + Double(number) * 86_400)
            return Token(id: Int64(number), symbol: "T\(number)", price: price, listed: listed)
        }

        @Test func rowsDecodeInPlaceAsTheyDoFromSQLRowsInTextAndInBinary() async throws {
            try await PostgresTestSupport.withConnection { connection in
                // The first run is in text; the prepared statement's later runs are in binary.
                for _ in 0..<3 {
                    let tokens = try await connection.query(Self.tokens) { try Self.token($0) }
                    #expect(tokens == Self.expected)
                    let rows = try await connection.query(Self.tokens)
                    let viaRows = try await connection.query(Self.tokens) { $0.row }
                    #expect(viaRows == rows)
                    let values = try await connection.query(Self.tokens) { row in
                        (0..<row.count).map { row[$0] } + [row["price"] ?? .text("missing"), row["absent"] ?? .text("missing")]
                    }
                    #expect(values == rows.map { $0.values + [$0["price"]!, .text("missing")] })
                }
                let none = try await connection.query("SELECT 1 AS one WHERE false") { try $0.decode(Int.self, "one") }
                #expect(none.isEmpty)
            }
        }

        @Test func aDecodingErrorFailsTheQueryAndLeavesTheConnectionInStep() async throws {
            try await PostgresTestSupport.withConnection { connection in
                var visited = 0
                do {
                    _ = try await connection.query(Self.tokens) { row -> Double in
                        visited += 1
                        return try row.decode(Double.self, "price")  // NULL in the second row
                    }
                    Issue.record("a NULL decoded as a Double")
                } catch let error as SQLDecodingError {
                    #expect(error.code == .typeMismatch)
                    #expect(error.column == "\"price\"")
                    #expect(error.foundKind == "null")
                }
                #expect(visited == 2, "no row is decoded after the error")
                await #expect(throws: SQLDecodingError.self) {
                    try await connection.query(Self.tokens) { try $0.decode(Int64.self, "nope") }
                }
                await #expect(throws: SQLDecodingError.self) {
                    try await connection.query(Self.tokens) { try $0.decode(Int64.self, at: 4) }
                }
                let after = try await connection.query("SELECT 7 AS seven") { try $0.decode(Int.self, "seven") }
                #expect(after == [7], "the connection read the whole result and is in step")
            }
        }

        @Test func aDatabaseDecodesInPlaceOnPooledAndOnMultiplexedConnections() async throws {
            for multiplexed in [0, 1] {
                try await PostgresTestSupport.withDatabase(multiplexedConnections: multiplexed) { database in
                    let results = try await withThrowingTaskGroup(of: [Token].self) { group in
                        for _ in 0..<8 { group.addTask { try await database.query(Self.tokens) { try Self.token($0) } } }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    #expect(results == Array(repeating: Self.expected, count: 8))
                    await #expect(throws: SQLDecodingError.self) {
                        try await database.query(Self.tokens) { try $0.decode(Double.self, "price") }
                    }
                    let after = try await database.query("SELECT \(Int64(3)) AS three") { try $0.decode(Int.self, "three") }
                    #expect(after == [3])
                }
            }
        }
    }
}
