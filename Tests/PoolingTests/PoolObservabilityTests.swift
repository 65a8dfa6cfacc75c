import Logging
import KeelTesting
import MetricsTestKit
import ServiceLifecycle
import Testing

@testable import Pooling

/// Metrics and the service lifecycle: what a service sees of the pool from outside.
@Suite struct PoolObservabilityTests {
    @Test func metricsFollowTheStatisticsWithThePoolDimension() async throws {
        let metrics = TestMetrics()
        let configuration = ConnectionPoolTests.configuration {
            $0.metricsFactory = metrics
            $0.name = "orders"
            $0.maxConnections = 1
            $0.acquireTimeout = .seconds(5)
            $0.maintenanceInterval = .seconds(1)
        }
        try await ConnectionPoolTests.withPool(configuration) { pool, _, clock in
            try await pool.withConnection { _ in }
            let held = try await pool.leaseConnection()
            let waiter = Task { try await pool.withConnection { _ in } }
            #expect(await eventually { pool.statistics.waiting == 1 })
            clock.advance(by: .seconds(5))
            await #expect(throws: PoolError.self) { try await waiter.value }
            await held.release()
            let sweeps = clock.sleepCallCount
            clock.advance(by: .seconds(1))
            #expect(await eventually { clock.sleepCallCount > sweeps })

            let dimensions = [("pool", "orders")]
            #expect(try metrics.expectGauge("keel_pool_connections_open", dimensions).lastValue == 1)
            #expect(try metrics.expectGauge("keel_pool_connections_idle", dimensions).lastValue == 1)
            #expect(try metrics.expectGauge("keel_pool_connections_in_use", dimensions).lastValue == 0)
            #expect(metrics.counterTotal(label: "keel_pool_connections_created_total", dimensions: dimensions) == 1)
            #expect(metrics.counterTotal(label: "keel_pool_acquire_timeouts_total", dimensions: dimensions) == 1)
        }
    }

    @Test func aGracefulShutdownOfTheServiceGroupStopsThePool() async throws {
        let source = FakeConnectionSource()
        let pool = try ConnectionPool(
            source: source, configuration: ConnectionPoolTests.configuration { $0.minConnections = 2 }, clock: ManualClock())
        let group = ServiceGroup(
            configuration: .init(services: [pool], logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(await eventually { pool.statistics.idle == 2 })
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(source.closed == 2)
        #expect(pool.isShuttingDown)
        await #expect(throws: PoolError.self) { try await pool.withConnection { _ in } }
    }

    @Test func cancellingRunClosesEverythingAtOnce() async throws {
        let source = FakeConnectionSource()
        let pool = try ConnectionPool(source: source, configuration: ConnectionPoolTests.configuration(), clock: ManualClock())
        let runner = Task { try await pool.run() }
        let lease = try await pool.leaseConnection()
        runner.cancel()
        try await runner.value
        #expect(source.closed == 1, "the leased connection too: no grace period after cancellation")
        await lease.release()
        #expect(pool.statistics.open == 0)
    }
}
