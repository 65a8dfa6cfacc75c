import Foundation
import Logging
import Pooling
import PostgresPool
import SQLCore
import KeelTesting
import Testing

/// The pool-backed database against the throwaway PostgreSQL: failover to fresh connections,
/// many tasks, no leaks, no secrets.
extension PostgresServerTests {
    @Suite(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
    struct PostgresDatabaseTests {
        @Test func thePooledDatabasePassesTheConformanceSuite() async throws {
            try await PostgresTestSupport.withDatabase { database in
                try await SQLDatabaseConformance(database: database).runAll()
            }
        }

        @Test func afterEveryPoolConnectionIsTerminatedTheNextQueriesUseFreshConnections() async throws {
            try await PostgresTestSupport.withDatabase(maxConnections: 4) { database in
                // Open all four connections: each task keeps its connection until all four hold one.
                let holding = Counter()
                let pids = try await withThrowingTaskGroup(of: Int64.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            try await database.withConnection { connection in
                                holding.increment()
                                while holding.value < 4 { await Task.yield() }
                                let rows = try await connection.query("SELECT pg_backend_pid() AS pid")
                                return try rows[0].decode(Int64.self, "pid")
                            }
                        }
                    }
                    return try await group.reduce(into: Set<Int64>()) { $0.insert($1) }
                }
                #expect(pids.count == 4)
                #expect(database.pool.statistics.idle == 4)

                // End every one from another session, waiting until each is gone.
                try await PostgresTestSupport.withConnection { admin in
                    for pid in pids {
                        let rows = try await admin.query("SELECT pg_terminate_backend(\(pid)::int, 5000) AS done")
                        #expect(rows[0]["done"] == .bool(true))
                    }
                }

                // Every next query succeeds, on connections the server has not seen before.
                var newPIDs = Set<Int64>()
                for _ in 0..<8 {
                    let rows = try await database.query("SELECT pg_backend_pid() AS pid")
                    newPIDs.insert(try rows[0].decode(Int64.self, "pid"))
                }
                #expect(newPIDs.isDisjoint(with: pids))
                #expect(database.pool.statistics.closed(.broken) == 4)
            }
        }

        @Test func tenThousandConcurrentTasksOverTwentyConnectionsAllComplete() async throws {
            try await PostgresTestSupport.withDatabase(maxConnections: 20) { database in
                let table = PostgresTestSupport.uniqueTable("many")
                try await database.execute("CREATE TABLE \(identifier: table) (k bigint PRIMARY KEY, v text)")
                let total = try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<10_000 {
                        group.addTask {
                            try await database.execute("INSERT INTO \(identifier: table) VALUES (\(Int64(index)), \("v\(index)"))")
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(total == 10_000)
                let rows = try await database.query("SELECT count(*) AS n, sum(k) AS s FROM \(identifier: table)")
                #expect(rows[0].values == [.int64(10_000), .int64(49_995_000)])
                #expect(database.pool.statistics.open <= 20)
                try await database.execute("DROP TABLE \(identifier: table)")
            }
        }

        @Test func tasksOnTheReactorsExecutorQueryWithoutLeavingItsThread() async throws {
            try await PostgresTestSupport.withDatabase(maxConnections: 10) { database in
                let table = PostgresTestSupport.uniqueTable("reactor")
                try await database.execute("CREATE TABLE \(identifier: table) (k bigint PRIMARY KEY, v text)")
                let executor = PostgresConnection.taskExecutor
                // Every task runs every query, its waits for the pool and for its socket included,
                // on the reactor's one thread.
                let threads = try await withThrowingTaskGroup(of: Set<UInt>.self) { group in
                    for index in 0..<2000 {
                        group.addTask(executorPreference: executor) {
                            var threads: Set<UInt> = [UInt(pthread_self())]
                            try await database.execute("INSERT INTO \(identifier: table) VALUES (\(Int64(index)), \("v\(index)"))")
                            threads.insert(UInt(pthread_self()))
                            let rows = try await database.query("SELECT v FROM \(identifier: table) WHERE k = \(Int64(index))")
                            #expect(try rows[0].decode(String.self, "v") == "v\(index)")
                            threads.insert(UInt(pthread_self()))
                            return threads
                        }
                    }
                    return try await group.reduce(into: Set<UInt>()) { $0.formUnion($1) }
                }
                #expect(threads.count == 1)
                let rows = try await database.query("SELECT count(*) AS n FROM \(identifier: table)")
                #expect(rows[0]["n"] == .int64(2000))

                // A cancelled task on the reactor cancels its statement, and the pool goes on.
                let sleeper = Task(executorPreference: executor) { _ = try await database.execute("SELECT pg_sleep(10)") }
                try await PostgresTestSupport.waitUntilASleepRuns()
                let cancelledAt = ContinuousClock.now
                sleeper.cancel()
                await #expect(throws: CancellationError.self) { try await sleeper.value }
                #expect(cancelledAt.duration(to: .now) < TestDatabaseEnvironment.timingBound(.milliseconds(200)))
                #expect(try await database.query("SELECT 1 AS one")[0]["one"] == .int64(1))
                try await database.execute("DROP TABLE \(identifier: table)")
            }
        }

        @Test func aThousandConnectAndCloseCyclesLeakNoFileDescriptorsOrSessions() async throws {
            let url = try TestDatabaseEnvironment.requirePostgresURL()
            let configuration = try PostgresConfiguration(connectionString: url + "?application_name=keel_leak_test")
            func sessions(_ admin: PostgresConnection) async throws -> Int64 {
                let rows = try await admin.query(
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'keel_leak_test'")
                return try rows[0].decode(Int64.self, "n")
            }
            // Warm up (the reactor's epoll descriptor, libraries loaded on first connect).
            try await PostgresConnection.connect(configuration: configuration).close()
            try await PostgresTestSupport.withConnection { admin in
                let descriptorsBefore = try PostgresTestSupport.openFileDescriptors()
                for _ in 0..<1000 {
                    let connection = try await PostgresConnection.connect(configuration: configuration)
                    _ = try await connection.query("SELECT 1")
                    connection.close()
                }
                // Other suites open files and connections meanwhile, so the count moves a little; a
                // descriptor leaked per cycle would add 1,000.
                let descriptorsAfter = try PostgresTestSupport.openFileDescriptors()
                #expect(descriptorsAfter - descriptorsBefore < 40, "\(descriptorsBefore) → \(descriptorsAfter)")
                // The server notices closed sessions a moment later.
                var open = try await sessions(admin)
                for _ in 0..<100 where open > 0 {
                    try await Task.sleep(for: .milliseconds(20))
                    open = try await sessions(admin)
                }
                #expect(open == 0)
            }
        }

        @Test func thePasswordNeverAppearsInDescriptionsErrorsOrLogs() async throws {
            let url = try TestDatabaseEnvironment.requirePostgresURL()
            let password = try #require(URLComponents(string: url)?.password)
            let handler = RecordingLogHandler()
            let logger = Logger(label: "test") { _ in handler }
            let configuration = try PostgresConfiguration(connectionString: url, logger: logger)
            #expect(!configuration.description.contains(password))
            #expect(configuration.description.contains("password=<redacted>"))

            // A wrong password: the error names the failure, not the secret.
            let wrong = url.replacingOccurrences(of: password, with: "wrong-\(password.prefix(4))-secret")
            let error = await #expect(throws: PostgresError.self) {
                try await PostgresConnection.connect(configuration: PostgresConfiguration(connectionString: wrong))
            }
            #expect(error?.isConnectionFailure == true)
            #expect(!"\(String(describing: error))".contains("secret"))

            // An unparsable string: the error does not echo the password either.
            let broken = "postgres://user:topsecret@host/db?nosuchoption=1"
            #expect {
                try PostgresConfiguration(connectionString: broken)
            } throws: { error in
                !"\(error)".contains("topsecret") && "\(error)".contains("not valid")
            }

            var pool = PoolConfiguration(logger: logger)
            pool.maxConnections = 1
            let database = try PostgresDatabase(configuration: configuration, pool: pool)
            try await withRunning(database.run, shutdown: database.shutdown) {
                try await database.execute("DO $$ BEGIN RAISE NOTICE 'x'; END $$")
            }
            #expect(!handler.recorded.isEmpty)
            #expect(!handler.recorded.contains { $0.contains(password) })
        }

        @Test func databaseURLIsReadFromTheEnvironment() throws {
            let url = try TestDatabaseEnvironment.requirePostgresURL()
            let configuration = try PostgresConfiguration(environment: ["DATABASE_URL": url])
            #expect(configuration.connectionString == url)
            #expect(throws: PostgresError.self) { try PostgresConfiguration(environment: [:]) }
        }
    }
}
