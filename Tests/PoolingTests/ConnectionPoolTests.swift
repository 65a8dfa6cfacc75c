import KeelCore
import Logging
import KeelTesting
import Synchronization
import Testing

@testable import Pooling

/// The pool's shell: locking, continuations, the run loop and the maintenance task, driven by a
/// fake source and a manual clock (nothing here sleeps).
@Suite struct ConnectionPoolTests {
    typealias Pool = ConnectionPool<FakeConnectionSource, ManualClock>

    static func configuration(_ configure: (inout PoolConfiguration) -> Void = { _ in }) -> PoolConfiguration {
        var configuration = PoolConfiguration(logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        configuration.validation = .never
        configuration.randomSeed = 7
        configure(&configuration)
        return configuration
    }

    /// Runs `body` with a running pool, then shuts it down and checks that `run()` returned.
    static func withPool(
        _ configuration: PoolConfiguration = configuration(),
        source: FakeConnectionSource = FakeConnectionSource(),
        clock: ManualClock = ManualClock(),
        _ body: (Pool, FakeConnectionSource, ManualClock) async throws -> Void
    ) async throws {
        let pool = try Pool(source: source, configuration: configuration, clock: clock)
        try await withRunning(pool.run, shutdown: pool.shutdown) { try await body(pool, source, clock) }
    }

    @Test func withConnectionReturnsTheConnectionOnReturnAndOnThrow() async throws {
        struct Boom: Error {}
        try await Self.withPool { pool, source, _ in
            let id = try await pool.withConnection { connection in connection.id }
            #expect(id == 1)
            await #expect(throws: Boom.self) {
                try await pool.withConnection { _ in throw Boom() }
            }
            let statistics = pool.statistics
            #expect(statistics.open == 1 && statistics.idle == 1 && statistics.inUse == 0)
            #expect(source.state.withLock { $0.resets } == 2, "reset on every return")
        }
    }

    @Test func anExplicitLeaseIsReleasedOnce() async throws {
        try await Self.withPool { pool, _, _ in
            let lease = try await pool.leaseConnection()
            #expect(pool.statistics.inUse == 1)
            let id = lease.connection.id
            await lease.release()
            #expect(pool.statistics.inUse == 0)
            let again = try await pool.leaseConnection()
            #expect(again.connection.id == id, "the idle connection is reused")
            await again.release()
        }
    }

    @Test func acquireTimeoutSaysWhatIsInUseAndWhatToRaise() async throws {
        let configuration = Self.configuration {
            $0.maxConnections = 1
            $0.acquireTimeout = .seconds(30)
        }
        try await Self.withPool(configuration) { pool, _, clock in
            let held = try await pool.leaseConnection()
            let waiter = Task { try await pool.withConnection { _ in } }
            #expect(await eventually { pool.statistics.waiting == 1 })
            clock.advance(by: .seconds(30))
            do {
                try await waiter.value
                Issue.record("expected a timeout")
            } catch let error as PoolError {
                #expect(error.code == .acquireTimeout)
                #expect(error.waited == .seconds(30))
                #expect(error.description.contains("1/1 in use"))
                #expect(error.description.contains("maxConnections") && !error.description.contains("DB_"))
                #expect(error.statistics.timeouts == 1)
            }
            #expect(pool.statistics.waiting == 0)
            await held.release()
        }
    }

    @Test func aDeadlineOverridesTheConfiguredTimeout() async throws {
        try await Self.withPool(Self.configuration { $0.maxConnections = 1 }) { pool, _, clock in
            let held = try await pool.leaseConnection()
            let deadline = clock.now.advanced(by: .milliseconds(250))
            let waiter = Task {
                let lease = try await pool.leaseConnection(deadline: deadline)
                await lease.release()
            }
            #expect(await eventually { pool.statistics.waiting == 1 })
            clock.advance(by: .milliseconds(250))
            await #expect(throws: PoolError.self) { try await waiter.value }
            await held.release()
        }
    }

    @Test func aCancelledWaiterLeavesTheQueueAtOnceAndLeaksNothing() async throws {
        try await Self.withPool(Self.configuration { $0.maxConnections = 1 }) { pool, _, _ in
            let held = try await pool.leaseConnection()
            let waiter = Task { try await pool.withConnection { $0.id } }
            #expect(await eventually { pool.statistics.waiting == 1 })
            waiter.cancel()
            await #expect(throws: CancellationError.self) { _ = try await waiter.value }
            #expect(pool.statistics.waiting == 0)
            await held.release()
            #expect(pool.statistics.inUse == 0)
            #expect(pool.statistics.idle == 1)
        }
    }

    @Test func aTaskCancelledBeforeAskingNeverWaits() async throws {
        try await Self.withPool(Self.configuration { $0.maxConnections = 1 }) { pool, _, _ in
            let held = try await pool.leaseConnection()
            let waiter = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await pool.withConnection { $0.id }
            }
            await #expect(throws: CancellationError.self) { _ = try await waiter.value }
            #expect(pool.statistics.waiting == 0)
            await held.release()
        }
    }

    @Test func failingConnectionsFailLeasesThatCannotWaitAndServeThoseThatCanOnceTheDatabaseIsBack() async throws {
        let source = FakeConnectionSource()
        source.state.withLock { $0.failuresToCome = 3 }
        let configuration = Self.configuration {
            $0.maxConcurrentConnectionAttempts = 1
            $0.connectRetryDelay = .seconds(1)
            $0.maxConnectRetryDelay = .seconds(4)
            $0.acquireTimeout = .milliseconds(500)
        }
        try await Self.withPool(configuration, source: source) { pool, source, clock in
            do {
                try await pool.withConnection { _ in }
                Issue.record("the first attempt fails")
            } catch let error as PoolError {
                #expect(error.code == .connectionUnavailable)
                #expect(error.lastConnectionError is FakeSourceError)
                #expect(error.description.contains("connection refused"))
            }
            // The next attempt is at least 0.5 s away: a lease that may wait 0.5 s fails at once.
            await #expect(throws: PoolError.self) { try await pool.withConnection { _ in } }
            #expect(source.attempts == 1, "no attempt before the back-off ends")

            // A lease that may wait a minute waits through the failing attempts and gets the
            // connection the first successful one opens.
            let patient = Task {
                let lease = try await pool.leaseConnection(deadline: clock.now.advanced(by: .seconds(60)))
                let id = lease.connection.id
                await lease.release()
                return id
            }
            #expect(await eventually { pool.statistics.waiting == 1 })
            while source.attempts < 4 || pool.statistics.waiting > 0 {
                clock.advance(by: .milliseconds(250))
                await Task.yield()
                #expect(pool.statistics.waiting <= 1)
                if clock.now.offset > .seconds(60) { break }
            }
            #expect(try await patient.value == 1)
            #expect(pool.statistics.creationFailures == 3)
            #expect(pool.statistics.created == 1)
        }
    }

    @Test func aConnectionFailingValidationIsReplacedTransparently() async throws {
        let configuration = Self.configuration { $0.validation = .always }
        try await Self.withPool(configuration) { pool, source, _ in
            _ = try await pool.withConnection { $0.id }  // opens #1
            source.state.withLock { $0.invalid = [1] }
            let id = try await pool.withConnection { $0.id }
            #expect(id == 2, "#1 failed its pre-ping and was replaced")
            #expect(pool.statistics.closed(.broken) == 1)
            #expect(source.state.withLock { $0.validations } == 1, "fresh connections are not pinged")
        }
    }

    @Test func aBrokenConnectionIsDiscardedOnReturn() async throws {
        try await Self.withPool { pool, source, _ in
            try await pool.withConnection { connection in
                connection.health.withLock { $0 = .broken }
            }
            #expect(pool.statistics.open == 0)
            #expect(await eventually { source.closed == 1 })
            #expect(try await pool.withConnection { $0.id } == 2)
        }
    }

    @Test func minConnectionsAreKeptOpen() async throws {
        try await Self.withPool(Self.configuration { $0.minConnections = 3 }) { pool, source, _ in
            #expect(await eventually { pool.statistics.idle == 3 })
            try await pool.withConnection { connection in connection.health.withLock { $0 = .broken } }
            #expect(await eventually { pool.statistics.idle == 3 }, "refilled after a close")
            #expect(source.opened == 4)
        }
    }

    @Test func idleAndExpiredConnectionsCloseInTheBackground() async throws {
        let configuration = Self.configuration {
            $0.idleTimeout = .seconds(60)
            $0.maxLifetime = .seconds(100)
            $0.maxLifetimeJitter = 0
            $0.maintenanceInterval = .seconds(10)
        }
        try await Self.withPool(configuration) { pool, source, clock in
            let lease = try await pool.leaseConnection()
            try await pool.withConnection { _ in }  // a second connection, idle from now
            #expect(pool.statistics.open == 2)
            for _ in 0..<7 {
                #expect(await clock.waitForSleepers(1))
                clock.advance(by: .seconds(10))
            }
            #expect(await eventually { pool.statistics.closed(.idle) == 1 })
            #expect(pool.statistics.open == 1, "the leased one stays open past its idle timeout")
            for _ in 0..<4 {
                #expect(await clock.waitForSleepers(1))
                clock.advance(by: .seconds(10))
            }
            #expect(pool.statistics.open == 1, "past its lifetime, but leased: closed on return")
            await lease.release()
            #expect(pool.statistics.closed(.lifetime) == 1)
            #expect(await eventually { source.closed == 2 })
        }
    }

    @Test func connectTimeoutIsEnforcedOnThePoolsClock() async throws {
        let source = FakeConnectionSource()
        source.state.withLock { $0.hang = true }
        let configuration = Self.configuration {
            $0.connectTimeout = .seconds(5)
            $0.acquireTimeout = .milliseconds(5_050)  // past the attempt's timeout, before the retry after it
        }
        try await Self.withPool(configuration, source: source) { pool, _, clock in
            let waiter = Task { try await pool.withConnection { _ in } }
            #expect(await eventually { source.attempts == 1 && clock.sleeperCount >= 2 })
            clock.advance(by: .seconds(5))
            do {
                try await waiter.value
                Issue.record("expected the connect timeout")
            } catch let error as PoolError {
                #expect(error.code == .connectionUnavailable)
                #expect(error.lastConnectionError is ConnectTimeoutError)
            }
        }
    }

    @Test func leaksAreLoggedOnceWithWhereTheLeaseWasTaken() async throws {
        let logs = CapturedLogs()
        let configuration = Self.configuration {
            $0.leakDetectionThreshold = .seconds(5)
            $0.maintenanceInterval = .seconds(1)
            $0.logger = Logger(label: "test") { _ in logs }
            $0.logger.logLevel = .info
        }
        try await Self.withPool(configuration) { pool, _, clock in
            let lease = try await pool.leaseConnection(); let line = #line
            for _ in 0..<8 {
                #expect(await clock.waitForSleepers(1))
                clock.advance(by: .seconds(1))
            }
            #expect(await eventually { logs.messages.contains { $0.contains("leakDetectionThreshold") } })
            let leak = try #require(logs.entries.first { $0.message.contains("leakDetectionThreshold") })
            #expect(leak.metadata["leased_at"] == "PoolingTests/ConnectionPoolTests.swift:\(line)")
            #expect(logs.messages.filter { $0.contains("leakDetectionThreshold") }.count == 1)
            await lease.release()
        }
    }

    @Test func shutdownWaitsForOutstandingLeasesAndRefusesNewOnes() async throws {
        let source = FakeConnectionSource()
        let clock = ManualClock()
        let pool = try Pool(source: source, configuration: Self.configuration(), clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            let lease = try await pool.leaseConnection()
            try await pool.withConnection { _ in }  // a second, idle connection
            let shutdown = Task { await pool.shutdown() }
            #expect(await eventually { source.closed == 1 }, "the idle connection closes at once")
            do {
                try await pool.withConnection { _ in }
                Issue.record("no leases after shutdown")
            } catch let error as PoolError {
                #expect(error.code == .shutdown)
            }
            await lease.release()
            await shutdown.value
            try await group.waitForAll()
            #expect(source.closed == 2)
            #expect(pool.statistics.closed(.shutdown) == 2)
        }
    }

    @Test func shutdownClosesLeasesStillOutAfterTheGracePeriod() async throws {
        let configuration = Self.configuration { $0.shutdownGracePeriod = .seconds(10) }
        let source = FakeConnectionSource()
        let clock = ManualClock()
        let pool = try Pool(source: source, configuration: configuration, clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            let lease = try await pool.leaseConnection()
            let shutdown = Task { await pool.shutdown() }
            #expect(await eventually { pool.isShuttingDown })
            #expect(pool.statistics.open == 1, "the lease is still out during the grace period")
            clock.advance(by: .seconds(10))
            await shutdown.value
            try await group.waitForAll()
            #expect(source.closed == 1)
            let closedUnderTheLease = lease.connection.closed.load(ordering: .relaxed)
            #expect(closedUnderTheLease)
            await lease.release()  // after a forced close: ignored
            #expect(pool.statistics.open == 0)
        }
    }

    @Test func tenThousandTasksWithRandomHoldsAndCancellationsLeaveNothingBehind() async throws {
        let configuration = Self.configuration {
            $0.maxConnections = 8
            $0.acquireTimeout = .seconds(3600)
        }
        try await Self.withPool(configuration) { pool, source, _ in
            final class Counters: Sendable {
                let completed = Atomic<Int>(0)
                let concurrent = Atomic<Int>(0)
                let overlaps = Atomic<Int>(0)
            }
            let counters = Counters()
            var generator = SystemRandomNumberGenerator()
            await withTaskGroup(of: Void.self) { group in
                var tasks: [Task<Void, Never>] = []
                for index in 0..<10_000 {
                    let holdYields = Int.random(in: 0...5, using: &generator)
                    let task = Task {
                        do {
                            try await pool.withConnection { connection in
                                if connection.busy.exchange(true, ordering: .acquiring) {
                                    counters.overlaps.add(1, ordering: .relaxed)
                                }
                                let now = counters.concurrent.add(1, ordering: .relaxed).newValue
                                if now > 8 { counters.overlaps.add(1, ordering: .relaxed) }
                                for _ in 0..<holdYields { await Task.yield() }
                                counters.concurrent.subtract(1, ordering: .relaxed)
                                connection.busy.store(false, ordering: .releasing)
                            }
                            counters.completed.add(1, ordering: .relaxed)
                        } catch {
                            #expect(error is CancellationError, "only cancellations fail: \(error)")
                        }
                    }
                    tasks.append(task)
                    group.addTask { await task.value }
                    if index % 7 == 3 { tasks.randomElement(using: &generator)?.cancel() }
                }
                await group.waitForAll()
            }
            let statistics = pool.statistics
            let overlaps = counters.overlaps.load(ordering: .relaxed)
            let completed = counters.completed.load(ordering: .relaxed)
            #expect(overlaps == 0, "a connection is never shared, never more than 8 in use")
            #expect(statistics.inUse == 0)
            #expect(statistics.waiting == 0)
            #expect(statistics.open == statistics.idle)
            #expect(statistics.open <= 8)
            #expect(completed > 5_000)
            #expect(source.state.withLock { $0.resets } >= completed, "every lease returned")
        }
    }
}

/// Keeps what a logger writes, for assertions.
final class CapturedLogs: LogHandler, Sendable {
    struct Entry: Sendable {
        let message: String
        let metadata: [String: String]
    }

    private let storage = Locked<[Entry]>([])

    var entries: [Entry] { storage.withLock { $0 } }
    var messages: [String] { entries.map(\.message) }

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        let metadata = (event.metadata ?? [:]).mapValues { "\($0)" }
        storage.withLock { $0.append(Entry(message: "\(event.message)", metadata: metadata)) }
    }
}
