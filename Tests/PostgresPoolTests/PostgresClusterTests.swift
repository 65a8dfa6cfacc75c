import Foundation
import Pooling
@testable import PostgresPool
import SQLCore
import KeelTesting
import Testing

/// The cluster's log positions, without a server.
@Suite struct PostgresClusterPositionTests {
    @Test func positionsParseFromTheirTextForm() {
        #expect(PostgresCluster<ContinuousClock>.position(of: "0/3000028") == 0x300_0028)
        #expect(PostgresCluster<ContinuousClock>.position(of: "16/B374D848") == 0x16_B374_D848)
        #expect(PostgresCluster<ContinuousClock>.position(of: "16") == nil)
        #expect(PostgresCluster<ContinuousClock>.position(of: "1/2/3") == nil)
        #expect(PostgresCluster<ContinuousClock>.position(of: "100000000/0") == nil)
        #expect(PostgresCluster<ContinuousClock>.position(of: "x/0") == nil)
    }

    @Test func anInsertPositionPastAPageHeaderMeansTheRecordEndBeforeIt() {
        #expect(PostgresCluster<ContinuousClock>.recordEnd(atInsertPosition: 0x300_0028) == 0x300_0000, "a segment's first page")
        #expect(PostgresCluster<ContinuousClock>.recordEnd(atInsertPosition: 0x300_2018) == 0x300_2000, "another page")
        #expect(PostgresCluster<ContinuousClock>.recordEnd(atInsertPosition: 0x300_2050) == 0x300_2050, "within a page")
        #expect(PostgresCluster<ContinuousClock>.recordEnd(atInsertPosition: 0x300_2028) == 0x300_2028, "40 bytes into a later page")
    }
}

/// A primary and its standby from scripts/test.sh (TEST_CLUSTER_URL, TEST_CLUSTER_STANDBY_URL).
extension PostgresServerTests {
    @Suite(.enabled(if: TestDatabaseEnvironment.runsClusterTests, TestDatabaseEnvironment.clusterSkipReason))
    struct PostgresClusterTests {
        static func url(_ name: String) throws -> String { try TestDatabaseEnvironment.require(name) }

        static func withCluster<ClusterClock: Clock, Result: Sendable>(
            clock: ClusterClock, replicaWait: Duration = .seconds(1),
            _ body: (PostgresCluster<ClusterClock>) async throws -> Result
        ) async throws -> Result where ClusterClock.Duration == Duration {
            var pool = PoolConfiguration()
            pool.maxConnections = 2
            let cluster = try PostgresCluster(
                configuration: PostgresConfiguration(connectionString: url("TEST_CLUSTER_URL")), primaryPool: pool,
                replicaPool: pool, replicaWait: replicaWait, clock: clock)
            return try await withRunning(cluster.run, shutdown: cluster.shutdown) { try await body(cluster) }
        }

        /// Runs `body` with the standby's replay paused, resumed after it.
        static func withReplayPaused<Result>(_ body: () async throws -> Result) async throws -> Result {
            let standby = try await PostgresConnection.connect(
                configuration: PostgresConfiguration(connectionString: url("TEST_CLUSTER_STANDBY_URL")))
            defer { standby.close() }
            try await standby.execute("SELECT pg_wal_replay_pause()")
            do {
                let result = try await body()
                try await standby.execute("SELECT pg_wal_replay_resume()")
                return result
            } catch {
                _ = try? await standby.execute("SELECT pg_wal_replay_resume()")
                throw error
            }
        }

        static func isInRecovery(_ connection: PostgresConnection) async throws -> Bool {
            try await connection.query("SELECT pg_is_in_recovery() AS r")[0].decode(Bool.self, "r")
        }

        @Test func writesGoToThePrimaryAndReadsToTheStandby() async throws {
            try await Self.withCluster(clock: ContinuousClock()) { cluster in
                let writing = try await cluster.write { try await Self.isInRecovery($0) }
                let inTransaction = try await cluster.transaction {
                    try await $0.query("SELECT pg_is_in_recovery() AS r")[0].decode(Bool.self, "r")
                }
                let reading = try await cluster.read { try await Self.isInRecovery($0) }
                #expect(writing == false && inTransaction == false)
                #expect(reading == true)
                let refused = await #expect(throws: PostgresError.self) {
                    try await cluster.read { try await $0.execute("CREATE TABLE keel_never (id int)") }
                }
                #expect(refused?.sqlState == "25006")
            }
        }

        @Test func everyReadSeesTheWriteBeforeIt() async throws {
            let table = PostgresTestSupport.uniqueTable("cluster_ryw")
            try await Self.withCluster(clock: ContinuousClock()) { cluster in
                try await cluster.write { try await $0.execute("CREATE TABLE \(identifier: table) (id int PRIMARY KEY, v bigint NOT NULL)") }
                try await cluster.write { try await $0.execute("INSERT INTO \(identifier: table) VALUES (1, 0)") }
                var fromStandby = 0
                for value in 1...200 {
                    if value.isMultiple(of: 2) {
                        try await cluster.write { try await $0.execute("UPDATE \(identifier: table) SET v = \(Int64(value)) WHERE id = 1") }
                    } else {
                        try await cluster.transaction { try await $0.execute("UPDATE \(identifier: table) SET v = \(Int64(value)) WHERE id = 1") }
                    }
                    let (seen, onStandby) = try await cluster.read { connection in
                        let rows = try await connection.query("SELECT v, pg_is_in_recovery() AS r FROM \(identifier: table) WHERE id = 1")
                        return (try rows[0].decode(Int64.self, "v"), try rows[0].decode(Bool.self, "r"))
                    }
                    #expect(seen == Int64(value))
                    if onStandby { fromStandby += 1 }
                }
                #expect(fromStandby > 0, "a standby replaying within a second serves reads")
                try await cluster.write { try await $0.execute("DROP TABLE \(identifier: table)") }
            }
        }

        @Test func aStandbyThatIsBehindIsWaitedForThenThePrimaryAnswers() async throws {
            let table = PostgresTestSupport.uniqueTable("cluster_lag")
            let clock = ManualClock()
            try await Self.withCluster(clock: clock, replicaWait: .milliseconds(500)) { cluster in
                @Sendable func readValue() async throws -> (value: String, onStandby: Bool) {
                    try await cluster.read { connection in
                        let rows = try await connection.query("SELECT v, pg_is_in_recovery() AS r FROM \(identifier: table)")
                        return (try rows[0].decode(String.self, "v"), try rows[0].decode(Bool.self, "r"))
                    }
                }
                try await cluster.write { try await $0.execute("CREATE TABLE \(identifier: table) (id int PRIMARY KEY, v text NOT NULL)") }
                try await cluster.write { try await $0.execute("INSERT INTO \(identifier: table) VALUES (1, 'old')") }
                #expect(try await Self.advancing(clock, by: .milliseconds(2), until: readValue) == ("old", true))
                try await Self.withReplayPaused {
                    try await cluster.write { try await $0.execute("UPDATE \(identifier: table) SET v = 'new' WHERE id = 1") }
                    let read = Task { try await readValue() }
                    // The read asks the standby, finds it behind and waits; its deadline passes.
                    #expect(await clock.waitForSleepers(1))
                    #expect(clock.nextDeadline == clock.now.advanced(by: .milliseconds(2)))
                    clock.advance(by: .milliseconds(500))
                    let (value, onStandby) = try await Self.advancing(clock, by: .milliseconds(2)) { try await read.value }
                    #expect(value == "new")
                    #expect(onStandby == false, "read from the primary once the wait ran out")
                }
                // Replay resumed: the standby catches up and serves the read again.
                #expect(try await Self.advancing(clock, by: .milliseconds(2), until: readValue) == ("new", true))
                try await cluster.write { try await $0.execute("DROP TABLE \(identifier: table)") }
            }
        }

        /// Runs `body` in a task and advances `clock` by `step` whenever something sleeps on it,
        /// until `body` returns.
        static func advancing<Value: Sendable>(
            _ clock: ManualClock, by step: Duration, until body: @escaping @Sendable () async throws -> Value
        ) async throws -> Value {
            let task = Task { try await body() }
            let done = Task {
                while true {
                    if clock.sleeperCount > 0 { clock.advance(by: step) }
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            defer { done.cancel() }
            return try await task.value
        }

        @Test func newConnectionsSpreadOverTheHostsAndFindTheKindOfServerAsked() async throws {
            var spread = try PostgresConfiguration(connectionString: Self.url("TEST_CLUSTER_URL"))
            spread.loadBalancesHosts = true
            var ports: Set<Int32> = []
            for _ in 0..<20 {
                let connection = try await PostgresConnection.connect(configuration: spread)
                ports.insert(try await connection.query("SELECT inet_server_port() AS p")[0].decode(Int32.self, "p"))
                connection.close()
            }
            #expect(ports.count == 2, "20 connections over two hosts in random order")

            for (target, inRecovery) in [(PostgresTargetSession.readWrite, false), (.standby, true), (.primary, false)] {
                var configuration = try PostgresConfiguration(connectionString: Self.url("TEST_CLUSTER_URL"))
                configuration.targetSessionAttributes = target
                configuration.loadBalancesHosts = true
                let connection = try await PostgresConnection.connect(configuration: configuration)
                #expect(try await Self.isInRecovery(connection) == inRecovery, "\(target)")
                connection.close()
            }
        }
    }
}
