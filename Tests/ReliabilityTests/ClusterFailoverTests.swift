import Foundation
import KeelCore
import KeelTesting
import Logging
import Pooling
import PostgresPool
import SQLCore
import Testing

extension Reliability {
    /// Scenarios 17 and 18: a primary and its streaming standby behind a `PostgresCluster`. The
    /// lag scenario runs first: the failover scenario promotes the standby for good.
    @Suite(.enabled(if: TestDatabaseEnvironment.runsClusterTests, TestDatabaseEnvironment.clusterSkipReason))
    struct ClusterFailover {
        static func withCluster<Result: Sendable>(
            replicaWait: Duration = .seconds(1), _ body: (PostgresCluster<ContinuousClock>) async throws -> Result
        ) async throws -> Result {
            var logger = Logger(label: "keel.reliability.cluster")
            logger.logLevel = .critical
            var pool = PoolConfiguration(logger: logger)
            pool.maxConnections = 8
            pool.connectTimeout = .seconds(2)
            pool.maxConnectRetryDelay = .milliseconds(250)
            var configuration = try PostgresConfiguration(connectionString: TestDatabaseEnvironment.require("TEST_CLUSTER_URL"))
            configuration.queryTimeout = .seconds(5)
            let cluster = try PostgresCluster(
                configuration: configuration, primaryPool: pool, replicaPool: pool, replicaWait: replicaWait)
            return try await withRunning(cluster.run, shutdown: cluster.shutdown) { try await body(cluster) }
        }

        @Test func readYourWritesWhileTheStandbyReplaysNothing() async throws {
            let standby = try await PostgresConnection.connect(
                configuration: PostgresConfiguration(connectionString: TestDatabaseEnvironment.require("TEST_CLUSTER_STANDBY_URL")))
            defer { standby.close() }
            try #require(try await standby.query("SELECT pg_is_in_recovery() AS r")[0].decode(Bool.self, "r"), "the standby is in recovery")
            let table = "keel_lag_\(UUID().uuidString.prefix(8).lowercased())"
            var figures = ScenarioFigures("18 ReplicaLag")
            try await Self.withCluster(replicaWait: .milliseconds(300)) { cluster in
                try await cluster.write { try await $0.execute("CREATE TABLE \(identifier: table) (id int PRIMARY KEY, v bigint NOT NULL)") }
                try await cluster.write { try await $0.execute("INSERT INTO \(identifier: table) VALUES (1, 0)") }

                func writeThenRead(_ value: Int64) async throws -> (seen: Int64, onStandby: Bool, took: Duration) {
                    try await cluster.write { try await $0.execute("UPDATE \(identifier: table) SET v = \(value) WHERE id = 1") }
                    let started = ContinuousClock.now
                    let (seen, onStandby) = try await cluster.read { connection in
                        let rows = try await connection.query("SELECT v, pg_is_in_recovery() AS r FROM \(identifier: table) WHERE id = 1")
                        return (try rows[0].decode(Int64.self, "v"), try rows[0].decode(Bool.self, "r"))
                    }
                    return (seen, onStandby, started.duration(to: .now))
                }

                // Replay paused: every read waits 300 ms for the standby, then reads the primary.
                try await standby.execute("SELECT pg_wal_replay_pause()")
                var stale = 0
                var fromStandby = 0
                var longest = Duration.zero
                do {
                    for value in Int64(1)...40 {
                        let read = try await writeThenRead(value)
                        if read.seen != value { stale += 1 }
                        if read.onStandby { fromStandby += 1 }
                        longest = max(longest, read.took)
                    }
                } catch {
                    try await standby.execute("SELECT pg_wal_replay_resume()")
                    throw error
                }
                try await standby.execute("SELECT pg_wal_replay_resume()")
                #expect(stale == 0)
                #expect(fromStandby == 0)
                #expect(longest < .milliseconds(300) + TestDatabaseEnvironment.timingBound(.milliseconds(200)))
                figures.record("replay paused: reads after a write / older value returned / from the standby", "40 / \(stale) / \(fromStandby)")
                figures.record("replay paused: longest read (wait 300 ms, then the primary)", longest.formattedMilliseconds)

                // Replay resumed: the standby serves the reads, still never an older value.
                stale = 0
                fromStandby = 0
                var took: [Double] = []
                for value in Int64(41)...240 {
                    let read = try await writeThenRead(value)
                    if read.seen != value { stale += 1 }
                    if read.onStandby { fromStandby += 1 }
                    took.append(read.took.milliseconds)
                }
                #expect(stale == 0)
                #expect(fromStandby >= 150, "a replaying standby serves most reads")
                figures.record("replay running: reads after a write / older value returned / from the standby", "200 / \(stale) / \(fromStandby)")
                figures.record(
                    "replay running: read after a write p50 / p99",
                    String(format: "%.2f / %.2f ms", percentile(took, 0.5), percentile(took, 0.99)))
                try await cluster.write { try await $0.execute("DROP TABLE \(identifier: table)") }
            }
            figures.print()
        }

        @Test func writesSucceedSoonAfterTheStandbyIsPromotedAndNoAcknowledgedWriteIsLost() async throws {
            let stopPrimary = try TestDatabaseEnvironment.require("KEEL_CLUSTER_STOP_PRIMARY")
            let promoteStandby = try TestDatabaseEnvironment.require("KEEL_CLUSTER_PROMOTE_STANDBY")
            let table = "keel_failover_\(UUID().uuidString.prefix(8).lowercased())"
            let writers = 8
            var figures = ScenarioFigures("17 Failover")
            try await Self.withCluster { cluster in
                try await cluster.write {
                    try await $0.execute("CREATE TABLE \(identifier: table) (writer int NOT NULL, seq int NOT NULL, PRIMARY KEY (writer, seq))")
                }
                let acknowledged = Locked<[(Int, Int)]>([])
                let errors = Locked<[String: Int]>([:])
                let longest = Locked<Duration>(.zero)
                let promotedAt = Locked<ContinuousClock.Instant?>(nil)
                let firstSuccessAfterPromotion = Locked<ContinuousClock.Instant?>(nil)
                let stop = Locked(false)

                let load = Task {
                    try await withThrowingTaskGroup { group in
                        for writer in 0..<writers {
                            group.addTask {
                                var seq = 0
                                while !stop.withLock({ $0 }) {
                                    seq += 1
                                    let started = ContinuousClock.now
                                    do {
                                        try await cluster.write {
                                            try await $0.execute("INSERT INTO \(identifier: table) VALUES (\(writer), \(seq))")
                                        }
                                        let now = ContinuousClock.now
                                        acknowledged.withLock { $0.append((writer, seq)) }
                                        if let promoted = promotedAt.withLock({ $0 }), promoted < now {
                                            firstSuccessAfterPromotion.withLock { $0 = min($0 ?? now, now) }
                                        }
                                    } catch {
                                        let kind = (error as? PostgresError).map { "PostgresError \($0.code)\($0.sqlState.map { " \($0)" } ?? "")" }
                                            ?? (error as? PoolError).map { "PoolError \($0.code)" } ?? "\(type(of: error))"
                                        errors.withLock { $0[kind, default: 0] += 1 }
                                    }
                                    let took = started.duration(to: .now)
                                    longest.withLock { $0 = max($0, took) }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }

                try await Task.sleep(for: .seconds(2))
                let stopping = ContinuousClock.now
                let (stopStatus, _) = try await runProgram("/bin/sh", arguments: [stopPrimary])
                #expect(stopStatus == 0)
                let stopped = ContinuousClock.now
                let beforeOutage = acknowledged.withLock { $0.count }
                try await Task.sleep(for: .milliseconds(500))
                let promoting = ContinuousClock.now
                promotedAt.withLock { $0 = promoting }
                let (promoteStatus, _) = try await runProgram("/bin/sh", arguments: [promoteStandby])
                #expect(promoteStatus == 0)
                let promoted = ContinuousClock.now
                for _ in 0..<1_000 where firstSuccessAfterPromotion.withLock({ $0 }) == nil {
                    try await Task.sleep(for: .milliseconds(10))
                }
                try await Task.sleep(for: .seconds(2))
                stop.withLock { $0 = true }
                try await load.value

                let acked = acknowledged.withLock { $0 }
                let stored = try await cluster.write { connection in
                    Set(try await connection.query("SELECT writer, seq FROM \(identifier: table)").map {
                        "\(try $0.decode(Int.self, "writer"))/\(try $0.decode(Int.self, "seq"))"
                    })
                }
                let lost = acked.filter { !stored.contains("\($0.0)/\($0.1)") }.count
                let recovered = try #require(firstSuccessAfterPromotion.withLock { $0 }, "no write succeeded after the promotion")
                let toFirstWrite = promoting.duration(to: recovered)
                #expect(lost == 0)
                #expect(toFirstWrite < .seconds(2), "writes succeeded \(toFirstWrite) after the promotion began")
                #expect(longest.withLock { $0 } < .seconds(10) + .seconds(5), "no call outlasts the failover timeout and a query timeout")
                let errorCounts = errors.withLock { $0 }
                figures.record("primary stopped (pg_ctl stop -m fast) took / promotion (pg_ctl promote -w) took",
                    "\(stopping.duration(to: stopped).formattedMilliseconds) / \(promoting.duration(to: promoted).formattedMilliseconds)")
                figures.record("promotion began to the first successful write", toFirstWrite.formattedMilliseconds)
                figures.record("writes acknowledged before the stop / in all; acknowledged but missing afterwards",
                    "\(beforeOutage) / \(acked.count); \(lost)")
                figures.record("writes failed (sent before the stop, not retried)",
                    errorCounts.isEmpty ? "0" : errorCounts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
                figures.record("longest call", longest.withLock { $0 }.formattedMilliseconds)
                try await cluster.write { try await $0.execute("DROP TABLE \(identifier: table)") }
            }
            figures.print()
        }
    }
}
