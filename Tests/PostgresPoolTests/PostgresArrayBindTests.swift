import Foundation
import KeelTesting
import PostgresPool
import SQLCore
import Testing

extension PostgresServerTests {
    /// `SQLDialect.arrayBind(of:)` against the server: every kind of value comes back out of
    /// `unnest` as it went in, quotes, backslashes, braces, commas and the text `NULL` included.
    @Suite struct PostgresArrayBindTests {
        @Test(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
        func everyKindRoundTripsThroughUnnest() async throws {
            let lists: [[SQLValue]] = [
                [.bool(true), .null, .bool(false)],
                [.int64(.min), .int64(0), .int64(.max)],
                [.double(-1.5), .double(1e-5), .double(12_345.678_9)],
                [.text(#"a"b"#), .text(#"back\slash"#), .text("{braces},commas"), .text("NULL"), .text(""), .text("ünï ✓")],
                [.blob([]), .blob([0x00, 0x5c, 0x22, 0xff])],
                [.date(Date(timeIntervalSince1970: 1_700_000_000)), .date(Date(timeIntervalSince1970: 0))],
                [.uuid(UUID(uuidString: "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0")!)],
                [.json(#"{"a": [1, "x\"y"]}"#)],
            ]
            try await PostgresTestSupport.withDatabase { database in
                for values in lists {
                    let array = try #require(SQLDialect.postgres.arrayBind(of: values))
                    var statement = SQLStatement(unsafeRaw: "SELECT v FROM unnest(")
                    statement.append(bind: array.value)
                    statement.append(unsafeRaw: "::\(array.arrayType)) WITH ORDINALITY AS t(v, n) ORDER BY n")
                    let rows = try await database.query(statement)
                    #expect(rows.map { $0[0] } == values, "\(array.arrayType)")
                }
            }
        }
    }
}
