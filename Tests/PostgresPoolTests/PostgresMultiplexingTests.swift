import Foundation
import Pooling
@testable import PostgresPool
import SQLCore
import KeelTesting
import Testing

/// `PostgresConfiguration.multiplexedConnections` against the throwaway PostgreSQL: many tasks'
/// statements on a few pipelined connections, each result to its own caller, an error or a
/// cancellation touching only its own statement.
extension PostgresServerTests {
    @Suite(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
    struct PostgresMultiplexingTests {
        @Test func theMultiplexedDatabasePassesTheConformanceSuite() async throws {
            try await PostgresTestSupport.withDatabase(multiplexedConnections: 2) { database in
                try await SQLDatabaseConformance(database: database).runAll()
            }
        }

        @Test func sixteenTasksGetTheirOwnResultsFromTwoConnections() async throws {
            try await PostgresTestSupport.withDatabase(maxConnections: 8, multiplexedConnections: 2) { database in
                // How many connections the pool has handed out at once, sampled while the tasks run.
                let watcher = Task {
                    var most = 0
                    while !Task.isCancelled {
                        most = max(most, database.pool.statistics.inUse)
                        try? await Task.sleep(for: .milliseconds(1))
                    }
                    return most
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<16 {
                        group.addTask {
                            for index in 0..<200 {
                                let key = Int64(task * 1_000 + index)
                                let rows = try await database.query("SELECT \(key)::int8 AS k, \("text-\(key)") AS t")
                                #expect(rows.count == 1)
                                #expect(rows[0]["k"] == .int64(key))
                                #expect(rows[0]["t"] == .text("text-\(key)"))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                watcher.cancel()
                // 3,200 statements from 16 tasks, on no more than the two multiplexed connections at once.
                let most = await watcher.value
                #expect(most >= 1 && most <= 2, "\(most) connections in use at once")
            }
        }

        @Test func anErrorFailsItsOwnStatementOnly() async throws {
            try await PostgresTestSupport.withDatabase(multiplexedConnections: 1) { database in
                let outcomes = await withTaskGroup(of: (Int, Result<Int64, any Error>).self) { group in
                    for index in 0..<60 {
                        group.addTask {
                            // Every tenth divides by zero.
                            let divisor = Int64(index % 10 == 3 ? 0 : 1)
                            do {
                                let rows = try await database.query("SELECT \(Int64(index))::int8 / \(divisor) AS v")
                                return (index, .success(try rows[0].decode(Int64.self, "v")))
                            } catch {
                                return (index, .failure(error))
                            }
                        }
                    }
                    return await group.reduce(into: [(Int, Result<Int64, any Error>)]()) { $0.append($1) }
                }
                #expect(outcomes.count == 60)
                for (index, outcome) in outcomes {
                    switch outcome {
                    case .success(let value):
                        #expect(index % 10 != 3)
                        #expect(value == Int64(index))
                    case .failure(let error):
                        #expect(index % 10 == 3, "statement \(index) failed: \(error)")
                        #expect((error as? PostgresError)?.sqlState == "22012")
                    }
                }
                // An unknown table fails while preparing: its caller gets that error, and the
                // connection goes on.
                let missing = await #expect(throws: PostgresError.self) { try await database.query("SELECT * FROM keel_no_such_table") }
                #expect(missing?.sqlState == "42P01")
                let after = try await database.query("SELECT 5::int8 AS v")
                #expect(after[0]["v"] == .int64(5))
            }
        }

        @Test func aCancelledCallerIsAnsweredAtOnceAndTheOthersKeepTheirResults() async throws {
            try await PostgresTestSupport.withDatabase(multiplexedConnections: 1) { database in
                let slow = Task { try await database.query("SELECT pg_sleep(0.5), 1::int8 AS v") }
                // Queued behind the slow statement on the one connection.
                let others = (0..<20).map { index in
                    Task { try await database.query("SELECT \(Int64(index))::int8 AS v")[0]["v"] }
                }
                try await Task.sleep(for: .milliseconds(50))
                let cancelled = ContinuousClock.now
                slow.cancel()
                await #expect(throws: CancellationError.self) { try await slow.value }
                // Answered before the server finished the sleep it was waiting for.
                #expect(cancelled.duration(to: .now) < .milliseconds(400))
                for (index, other) in others.enumerated() {
                    #expect(try await other.value == .int64(Int64(index)))
                }
                #expect(try await database.query("SELECT 7::int8 AS v")[0]["v"] == .int64(7))
            }
        }

        @Test func transactionsAndLeasesKeepConnectionsOfTheirOwn() async throws {
            try await PostgresTestSupport.withDatabase(maxConnections: 4, multiplexedConnections: 1) { database in
                let table = PostgresTestSupport.uniqueTable("multiplexed")
                try await database.execute("CREATE TABLE \(identifier: table) (k int8 PRIMARY KEY)")
                defer { Task { try? await database.execute("DROP TABLE \(identifier: table)") } }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await database.transaction { transaction in
                            try await transaction.execute("INSERT INTO \(identifier: table) VALUES (1)")
                            // Not visible outside the transaction until it commits.
                            let outside = try await database.query("SELECT count(*)::int8 AS n FROM \(identifier: table)")
                            #expect(outside[0]["n"] == .int64(0))
                            let inside = try await transaction.query("SELECT count(*)::int8 AS n FROM \(identifier: table)")
                            #expect(inside[0]["n"] == .int64(1))
                        }
                    }
                    for index in 0..<50 {
                        group.addTask { _ = try await database.query("SELECT \(Int64(index))::int8 AS v") }
                    }
                    try await group.waitForAll()
                }
                #expect(try await database.query("SELECT count(*)::int8 AS n FROM \(identifier: table)")[0]["n"] == .int64(1))
            }
        }

        @Test func aLostConnectionFailsItsStatementsAndTheNextOnesUseAFreshOne() async throws {
            try await PostgresTestSupport.withDatabase(multiplexedConnections: 1) { database in
                let pid = try await database.query("SELECT pg_backend_pid()::int8 AS pid")[0].decode(Int64.self, "pid")
                let slow = Task { try await database.query("SELECT pg_sleep(5)") }
                try await PostgresTestSupport.withConnection { admin in
                    // Once the sleep runs on the multiplexed connection, its server process ends.
                    var running = false
                    while !running {
                        running = try await admin.query(
                            "SELECT count(*)::int8 AS n FROM pg_stat_activity WHERE pid = \(pid) AND query LIKE 'SELECT pg_sleep(5)%'"
                        )[0]["n"] == .int64(1)
                        if !running { try await Task.sleep(for: .milliseconds(5)) }
                    }
                    _ = try await admin.query("SELECT pg_terminate_backend(\(pid)::int4)")
                }
                let error = await #expect(throws: PostgresError.self) { try await slow.value }
                #expect(error?.isConnectionFailure == true, "\(String(describing: error))")
                let next = try await database.query("SELECT pg_backend_pid()::int8 AS pid")[0].decode(Int64.self, "pid")
                #expect(next != pid)
            }
        }

        @Test func aLaneIsServedOnTheExecutorOfTheTaskThatStartsIt() async throws {
            try await PostgresTestSupport.withDatabase(multiplexedConnections: 1) { database in
                let executor = PostgresConnection.taskExecutor
                let reactorThread = await Task(executorPreference: executor) { UInt(pthread_self()) }.value
                /// The thread that decoded the row: the lane's driver's.
                @Sendable func decodingThread() async throws -> [UInt] {
                    try await database.query("SELECT 1 AS one") { _ in UInt(pthread_self()) }
                }
                /// Waits until the lane's driver is done (its connection back in the pool and the
                /// lane marked idle): the next statement then starts a driver of its own. The pool
                /// alone does not say so: a statement queued between the connection's return and
                /// the end of the driver still goes to that driver.
                func waitUntilTheLaneIsIdle() async throws {
                    let multiplexer = try #require(database.multiplexer)
                    while multiplexer.isServing { try await Task.sleep(for: .milliseconds(1)) }
                }
                let onTheReactor = try await Task(executorPreference: executor) { try await decodingThread() }.value
                #expect(onTheReactor == [reactorThread])
                try await waitUntilTheLaneIsIdle()
                let onTheGlobalExecutor = try await Task.detached { try await decodingThread() }.value
                #expect(onTheGlobalExecutor.count == 1)
                #expect(onTheGlobalExecutor != [reactorThread])
            }
        }

        @Test func aConnectionOverAUnixSocketMultiplexesWithoutCorking() async throws {
            // The throwaway server also listens on a socket in its folder.
            let folder = try TestDatabaseEnvironment.require("KEEL_PG_SOCKET_DIR")
            let tcp = try #require(URLComponents(string: try TestDatabaseEnvironment.requirePostgresURL()))
            var unix = URLComponents()
            unix.scheme = "postgresql"
            unix.user = tcp.user
            unix.password = tcp.password
            unix.host = ""
            unix.path = tcp.path
            unix.queryItems = [URLQueryItem(name: "host", value: folder), URLQueryItem(name: "port", value: tcp.port.map(String.init))]
            let configuration = try PostgresConfiguration(connectionString: try #require(unix.string))
            try await PostgresTestSupport.withConnection { #expect($0.corksWrites) }
            let connection = try await PostgresConnection.connect(configuration: configuration)
            #expect(!connection.corksWrites)
            connection.close()

            var multiplexed = configuration
            multiplexed.multiplexedConnections = 1
            var pool = PoolConfiguration()
            pool.validation = .never
            let database = try PostgresDatabase(configuration: multiplexed, pool: pool)
            try await withRunning(database.run, shutdown: database.shutdown) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<8 {
                        group.addTask {
                            for index in 0..<50 {
                                let key = Int64(task * 1_000 + index)
                                let rows = try await database.query("SELECT \(key)::int8 AS k")
                                #expect(rows.map { $0["k"] } == [.int64(key)])
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }
}
