import Foundation
import Pooling
import PostgresPool
import SQLCore
import KeelTesting
import Testing

/// Through scripts/test.sh's PgBouncer in transaction mode, in front of the throwaway PostgreSQL.
extension PostgresServerTests {
    @Suite(.enabled(if: TestDatabaseEnvironment.runsPgBouncerTests, "TEST_PGBOUNCER_URL is not set: run scripts/test.sh"))
    struct PgBouncerTests {
        static func configuration(transactionMode: Bool = true) throws -> PostgresConfiguration {
            var configuration = try PostgresConfiguration(connectionString: TestDatabaseEnvironment.requirePgBouncerURL())
            configuration.pgBouncerTransactionMode = transactionMode
            return configuration
        }

        static func withDatabase<Result: Sendable>(
            maxConnections: Int = 4, _ body: (PostgresDatabase) async throws -> Result
        ) async throws -> Result {
            var pool = PoolConfiguration()
            pool.maxConnections = maxConnections
            let database = try PostgresDatabase(configuration: configuration(), pool: pool)
            return try await withRunning(database.run, shutdown: database.shutdown) { try await body(database) }
        }

        @Test func aPoolThroughTheBouncerPassesTheConformanceSuite() async throws {
            try await Self.withDatabase { database in
                try await SQLDatabaseConformance(database: database).runAll()
            }
        }

        @Test func pipelinedBatchesFromManyTasksRunWholeAndAtomically() async throws {
            try await Self.withDatabase(maxConnections: 8) { database in
                let table = PostgresTestSupport.uniqueTable("bouncer_pipeline")
                try await database.execute("CREATE TABLE \(identifier: table) (id bigint PRIMARY KEY, task bigint NOT NULL)")
                // 16 tasks, each a pipeline of 250 inserts, on 8 client connections that the
                // bouncer serves from its own server connections.
                try await withThrowingTaskGroup { group in
                    for task in 0..<16 {
                        group.addTask {
                            let inserts: [SQLStatement] = (0..<250).map {
                                "INSERT INTO \(identifier: table) VALUES (\(Int64(task * 1000 + $0)), \(Int64(task)))"
                            }
                            let affected = try await database.executeBatch(inserts)
                            #expect(affected == Array(repeating: 1, count: 250))
                            let doubled = try await database.queryPipelined((0..<50).map { "SELECT \(Int64($0)) * 2 AS v" })
                            #expect(doubled.map { $0[0]["v"] } == (0..<50).map { .int64(Int64($0) * 2) })
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(try await database.query("SELECT count(*) AS n FROM \(identifier: table)")[0]["n"] == .int64(4000))

                // One failing statement: nothing of its batch takes effect.
                let failing: [SQLStatement] = [
                    "INSERT INTO \(identifier: table) VALUES (\(Int64(90_000)), \(Int64(0)))",
                    "INSERT INTO \(identifier: table) VALUES (\(Int64(1)), \(Int64(0)))",
                ]
                let error = await #expect(throws: PostgresError.self) { try await database.executeBatch(failing) }
                #expect(error?.isUniqueViolation == true)
                #expect(try await database.query("SELECT count(*) AS n FROM \(identifier: table)")[0]["n"] == .int64(4000))
                try await database.execute("DROP TABLE \(identifier: table)")
            }
        }

        @Test func copyAndRowStreamingEachStayOnOneServerConnection() async throws {
            try await Self.withDatabase { database in
                let table = PostgresTestSupport.uniqueTable("bouncer_copy")
                try await database.execute("CREATE TABLE \(identifier: table) (id bigint PRIMARY KEY, name text)")
                let copied = try await database.copy(
                    into: table, columns: ["id", "name"], rows: (0..<10_000).map { [.int64(Int64($0)), .text("n\($0)")] })
                #expect(copied == 10_000)
                var seen = 0
                try await database.forEachRow("SELECT id FROM \(identifier: table) ORDER BY id") { row in
                    #expect(row["id"] == .int64(Int64(seen)))
                    seen += 1
                }
                #expect(seen == 10_000)
                try await database.execute("DROP TABLE \(identifier: table)")
            }
        }

        @Test func preparedStatementsWithoutThePresetFailWithAnErrorNamingIt() async throws {
            // Two client connections each prepare a new statement in turn (their names, keel_1,
            // keel_2, …, advance together): the bouncer hands the second the server connection
            // the first just released, where the name is taken, or one where an earlier name is
            // missing.
            let first = try await PostgresConnection.connect(configuration: Self.configuration(transactionMode: false))
            defer { first.close() }
            let second = try await PostgresConnection.connect(configuration: Self.configuration(transactionMode: false))
            defer { second.close() }
            var failure: PostgresError?
            for index in 0..<50 where failure == nil {
                do {
                    for connection in [first, second] {
                        _ = try await connection.query("SELECT \(Int64(index)) + \(unsafeRaw: String(index)) AS v")
                    }
                } catch let error as PostgresError {
                    failure = error
                }
            }
            let error = try #require(failure, "no prepared statement met another session's in 100 statements")
            #expect(error.sqlState == "26000" || error.sqlState == "42P05")
            #expect(error.description.contains("pgBouncerTransactionMode"))
        }

        @Test func whatNeedsASessionIsRefusedWithAClearError() async throws {
            var configuration = try Self.configuration()
            configuration.statementTimeout = .seconds(1)
            let connect = await #expect(throws: PostgresError.self) {
                _ = try await PostgresConnection.connect(configuration: configuration)
            }
            #expect(connect?.code == .client)
            #expect(connect?.message.contains("ALTER ROLE") == true)

            try await Self.withDatabase { database in
                let listening = await #expect(throws: PostgresError.self) {
                    for try await _ in database.notifications(channel: "keel_bouncer") {}
                }
                #expect(listening?.code == .client)
                #expect(listening?.message.contains("directly") == true)
            }
        }

        @Test func statementsAreSentUnnamedAndSettingsTheBouncerKeepsHold() async throws {
            try await Self.withDatabase { database in
                for index in 0..<20 { _ = try await database.query("SELECT \(Int64(index)) AS v") }
                // (The server's pg_prepared_statements would show other clients' statements: the
                // bouncer shares its server connections.)
                let prepared = try await database.withConnection { connection in
                    _ = try await connection.query("SELECT 1 AS v")
                    return connection.preparedStatementCount
                }
                #expect(prepared == 0)
                #expect(try await database.query("SHOW DateStyle")[0][0] == .text("ISO, MDY"))
                let timestamp = try await database.query("SELECT '2026-01-02 03:04:05+00'::timestamptz AS t")
                #expect(timestamp[0]["t"] == .date(Date(timeIntervalSince1970: 1_767_323_045)))
            }
        }
    }
}
