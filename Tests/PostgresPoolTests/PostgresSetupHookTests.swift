import Foundation
import Pooling
import PostgresPool
import SQLCore
import KeelTesting
import Testing

/// The connection set-up hook: `setupSQL` and `onConnect` run on every new connection before use.
extension PostgresServerTests {
    @Suite(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
    struct PostgresSetupHookTests {
        struct HookFailure: Error, CustomStringConvertible {
            var description: String { "the hook said no" }
        }

        @Test func setupSQLAndOnConnectRunOnEveryPooledConnectionBeforeUse() async throws {
            let opened = Counter()
            let configuration = try PostgresTestSupport.configuration { configuration in
                configuration.setupSQL = ["SET application_name = 'keel-setup-test'", "SET TIME ZONE 'Pacific/Auckland'"]
                configuration.onConnect = { connection in
                    // The hook sees the session setupSQL made.
                    let rows = try await connection.query("SELECT current_setting('application_name') AS name")
                    guard rows.first?["name"] == .text("keel-setup-test") else { throw HookFailure() }
                    try await connection.execute("SET search_path = pg_catalog")
                    opened.increment()
                }
            }
            var pool = PoolConfiguration()
            pool.maxConnections = 3
            let database = try PostgresDatabase(configuration: configuration, pool: pool)
            try await withRunning(database.run, shutdown: database.shutdown) {
                let settings = try await withThrowingTaskGroup(of: [String].self) { tasks in
                    for _ in 0..<3 {
                        tasks.addTask {
                            try await database.transaction { db in
                                let row = try await db.query(
                                    "SELECT current_setting('TimeZone') AS zone, current_setting('search_path') AS path, pg_sleep(0.05)::text AS slept")[0]
                                return [try row.decode(String.self, "zone"), try row.decode(String.self, "path")]
                            }
                        }
                    }
                    return try await tasks.reduce(into: []) { $0.append($1) }
                }
                #expect(settings.count == 3)
                #expect(settings.allSatisfy { $0 == ["Pacific/Auckland", "pg_catalog"] })
                #expect(opened.value == database.pool.statistics.open)
                #expect(opened.value >= 1)
            }
        }

        @Test func aFailingHookFailsThatConnectionNotThePool() async throws {
            let attempts = Counter()
            let configuration = try PostgresTestSupport.configuration { configuration in
                configuration.onConnect = { _ in
                    attempts.increment()
                    if attempts.value <= 2 { throw HookFailure() }
                }
            }
            let error = await #expect(throws: PostgresError.self) {
                try await PostgresConnection.connect(configuration: configuration)
            }
            #expect(error?.code == .connection)
            #expect("\(error!)".contains("the hook said no"))

            var pool = PoolConfiguration()
            pool.maxConnections = 1
            pool.connectRetryDelay = .milliseconds(1)
            let database = try PostgresDatabase(configuration: configuration, pool: pool)
            try await withRunning(database.run, shutdown: database.shutdown) {
                // The pool's first connection fails its hook; the pool retries, the next one
                // succeeds and serves. A lease that came while nothing was open may fail with the
                // hook's error meanwhile.
                var rows: [SQLRow]?
                for _ in 0..<200 where rows == nil {
                    do {
                        rows = try await database.query("SELECT 1 AS one")
                    } catch {
                        #expect("\(error)".contains("the hook said no"))
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
                #expect(rows?.count == 1)
                #expect(attempts.value == 3)
            }
        }

        @Test func setupSQLPreparesNothingAndMayHoldSeveralStatements() async throws {
            let configuration = try PostgresTestSupport.configuration { configuration in
                configuration.setupSQL = ["SET application_name = 'keel-a'; SET TIME ZONE 'UTC'"]
            }
            let connection = try await PostgresConnection.connect(configuration: configuration)
            #expect(connection.preparedStatementCount == 0)
            let row = try await connection.query(
                "SELECT current_setting('application_name') AS name, current_setting('TimeZone') AS zone")[0]
            #expect(try row.decode(String.self, "name") == "keel-a")
            #expect(try row.decode(String.self, "zone") == "UTC")
            connection.close()
        }

        @Test func aFailingSetupStatementFailsTheConnectWithTheServersError() async throws {
            let configuration = try PostgresTestSupport.configuration { configuration in
                configuration.setupSQL = ["SET no_such_setting_here = 1"]
            }
            let error = await #expect(throws: PostgresError.self) {
                try await PostgresConnection.connect(configuration: configuration)
            }
            #expect(error?.sqlState == "42704")
        }
    }
}
