import Foundation
import KeelTesting
@testable import PostgresPool
import SQLCore
import Testing

extension PostgresServerTests {
    /// A prepared statement's results come in text the first time, then in binary when every
    /// column's type has a binary decoder, and decode to the same values either way.
    @Suite(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
    struct PostgresBinaryResultsTests {
        static let uuid = UUID(uuidString: "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0")!

        /// One row with every type decoded in binary, extremes and NULLs among them, and the
        /// values it must decode to.
        static let everyBinaryType: (SQLStatement, [SQLValue]) = {
            let statement: SQLStatement = """
                SELECT \(true)::bool, \(false)::bool, \(Int64(-32_768))::int2, \(Int64(Int32.min))::int4,
                    \(Int64.min)::int8, \(Int64.max)::int8, 4294967295::oid, \(0.1)::float8,
                    \(-Double.infinity)::float8, \("naïve 日本語 🚀")::text, \("v")::varchar, \("ab")::char(4),
                    'pg_class'::name, \(SQLValue.blob([0, 255, 0, 10, 92]))::bytea, \(uuid)::uuid,
                    \(SQLValue.json(#"{"a":[1,{"b":null}]}"#))::json,
                    '2023-11-14 22:13:20.123456+00'::timestamptz, '1969-12-31 23:59:59.5+00'::timestamptz,
                    '2000-01-01 00:00:00.000001'::timestamp, 'infinity'::timestamptz, '-infinity'::timestamp,
                    '1999-12-31'::date, '2024-02-29'::date, 'infinity'::date, NULL::int8, NULL::text
                """
            let expected: [SQLValue] = [
                .bool(true), .bool(false), .int64(-32_768), .int64(Int64(Int32.min)),
                .int64(.min), .int64(.max), .int64(4_294_967_295), .double(0.1),
                .double(-.infinity), .text("naïve 日本語 🚀"), .text("v"), .text("ab  "),
                .text("pg_class"), .blob([0, 255, 0, 10, 92]), .uuid(uuid),
                .json(#"{"a":[1,{"b":null}]}"#),
                .date(Date(timeIntervalSince1970: 1_700_000_000.123456)), .date(Date(timeIntervalSince1970: -0.5)),
                .date(Date(timeIntervalSince1970: 946_684_800.000001)), .text("infinity"), .text("-infinity"),
                .date(Date(timeIntervalSince1970: 946_598_400)), .date(Date(timeIntervalSince1970: 1_709_164_800)),
                .text("infinity"), .null, .null,
            ]
            return (statement, expected)
        }()

        /// The prepared statements of `connection` whose text contains `fragment`.
        func prepared(on connection: PostgresConnection, containing fragment: String) -> [PostgresStatementCache.Prepared] {
            connection.statements.preparedStatements.filter { $0.key.sql.contains(fragment) }
        }

        @Test func laterResultsComeInBinaryAndDecodeAsTheFirst() async throws {
            try await PostgresTestSupport.withConnection { connection in
                let (statement, expected) = Self.everyBinaryType
                let first = try await connection.query(statement)
                #expect(first[0].values == expected)
                let statements = prepared(on: connection, containing: "'pg_class'::name")
                #expect(statements.count == 1)
                #expect(statements.first?.binaryResults == true, "every column has a binary decoder")

                for _ in 0..<2 {
                    let again = try await connection.query(statement)
                    #expect(again[0].values == expected)
                    #expect(again[0].columns == first[0].columns)
                }
                let nan = try await connection.query("SELECT \(Double.nan)::float8 AS v, \(Int64(7))::int4 AS w")
                let nanAgain = try await connection.query("SELECT \(Double.nan)::float8 AS v, \(Int64(7))::int4 AS w")
                for rows in [nan, nanAgain] {
                    guard case .double(let value) = rows[0]["v"] else { Issue.record("NaN is not a double"); return }
                    #expect(value.isNaN)
                    #expect(rows[0]["w"] == .int64(7))
                }
            }
        }

        @Test func aStatementWithAColumnOfAnotherTypeStaysInText() async throws {
            try await PostgresTestSupport.withConnection { connection in
                let statement: SQLStatement = "SELECT \(Int64(9))::int4 AS a, 9.5::numeric AS b, 1.5::float4 AS c, '{1,2}'::int4[] AS d"
                let expected: [SQLValue] = [.int64(9), .double(9.5), .double(1.5), .text("{1,2}")]
                for _ in 0..<3 {
                    let rows = try await connection.query(statement)
                    #expect(rows[0].values == expected)
                }
                let statements = prepared(on: connection, containing: "9.5::numeric")
                #expect(statements.count == 1)
                #expect(statements.first?.binaryResults == false)
            }
        }

        @Test func aStreamedResultAndAMultiplexedOneDecodeInBinaryToo() async throws {
            let (statement, expected) = Self.everyBinaryType
            try await PostgresTestSupport.withConnection { connection in
                _ = try await connection.query(statement)
                var streamed: [[SQLValue]] = []
                try await connection.forEachRow(statement) { streamed.append($0.values) }
                #expect(streamed == [expected])
            }
            try await PostgresTestSupport.withDatabase(multiplexedConnections: 1) { database in
                for _ in 0..<3 {
                    let rows = try await database.query(statement)
                    #expect(rows[0].values == expected)
                }
            }
        }
    }
}
