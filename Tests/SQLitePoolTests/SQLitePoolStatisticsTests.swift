import Foundation
import KeelTesting
import MetricsTestKit
import Pooling
import SQLitePool
import Testing

/// The SQLite backend's readers and writer are pools: the same configuration, statistics and
/// metrics as PostgreSQL's.
@Suite struct SQLitePoolStatisticsTests {
    @Test func theDBVariablesSizeTheReadersPoolAndTheWriterIsAPoolOfOne() async throws {
        let pool = try PoolConfiguration(environment: ["DB_MAX_CONNECTIONS": "3", "DB_MIN_CONNECTIONS": "3"])
        let database = try await SQLiteDatabase(
            configuration: SQLiteConfiguration(path: try TestDatabaseEnvironment.temporarySQLitePath()), pool: pool)
        #expect(database.readerPool?.statistics.open == 3)
        #expect(database.writerPool.statistics.open == 1)
        #expect(database.statistics.readerCount == 3)
        #expect(database.writerPool.statistics.created == 1)
        await database.close()
        #expect(database.readerPool?.statistics.open == 0)
        #expect(database.writerPool.statistics.open == 0)
    }

    @Test func statisticsAndMetricsFollowTheWork() async throws {
        let metrics = TestMetrics()
        var pool = SQLiteDatabase.defaultPoolConfiguration(for: SQLiteConfiguration(path: "unused"))
        pool.maxConnections = 2
        pool.minConnections = 2
        pool.metricsFactory = metrics
        pool.name = "tokens"
        let database = try await SQLiteDatabase(
            configuration: SQLiteConfiguration(path: try TestDatabaseEnvironment.temporarySQLitePath()), pool: pool)
        try await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        for id in 1...10 { try await database.execute("INSERT INTO t (id) VALUES (\(id))") }

        // A write waits while a transaction holds the writer: the writer pool counts the wait.
        let holding = Signal()
        let release = Signal()
        let transaction = Task {
            try await database.transaction { db in
                holding.fire()
                await release.wait()
                try await db.execute("INSERT INTO t (id) VALUES (\(100))")
            }
        }
        await holding.wait()
        let waiting = Task { try await database.execute("INSERT INTO t (id) VALUES (\(101))") }
        var waited = false
        for _ in 0..<100_000 where !waited {
            waited = database.writerPool.statistics.waiting == 1
            await Task.yield()
        }
        #expect(waited)
        #expect(database.statistics.queuedWrites == 1)
        #expect(database.statistics.runningWrites == 1)
        release.fire()
        try await transaction.value
        _ = try await waiting.value

        let reads = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 { group.addTask { try await database.query("SELECT count(*) AS n FROM t")[0].decode(Int.self, "n") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(reads.allSatisfy { $0 == 12 })

        database.writerPool.publishMetrics()
        database.readerPool?.publishMetrics()
        let writer = [("pool", "tokens-writer")]
        let readers = [("pool", "tokens")]
        #expect(try metrics.expectGauge("keel_pool_connections_open", writer).lastValue == 1)
        #expect(try metrics.expectGauge("keel_pool_connections_open", readers).lastValue == 2)
        #expect(try metrics.expectGauge("keel_pool_connections_in_use", readers).lastValue == 0)
        #expect(metrics.counterTotal(label: "keel_pool_waits_total", dimensions: writer) >= 1)
        #expect(metrics.counterTotal(label: "keel_pool_connections_created_total", dimensions: readers) == 2)
        await database.close()
    }
}
