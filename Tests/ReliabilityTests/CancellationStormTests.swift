import Cache
import KeelCore
import Pooling
import PostgresPool
import RateLimit
import SQLCore
import Testing

extension Reliability {
    /// Scenario 4: 10,000 tasks take a limiter permit, read through a cache (single-flight), lease
    /// a pooled connection, query and hold it, and are cancelled at random moments: while waiting
    /// for the permit, for the fetch, for a connection (which the pool may be opening: connections
    /// live 300 ms), mid-query or while holding. Nothing may leak. Run twice: with leased
    /// connections, and multiplexed (`multiplexedConnections = 2`: the query goes through
    /// `database.query` onto the shared pipelined connections, with no connection of its own to
    /// wait for or hold).
    @Suite struct CancellationStorm {
        /// How far a task got: the stage it was in when it ended.
        enum Stage: String, CaseIterable {
            case waitingForPermit = "waiting for a permit"
            case waitingForFetch = "waiting for a cache fetch"
            case waitingForConnection = "waiting for a connection"
            case inQuery = "in a query"
            case holding = "holding the connection"
            case done = "done"

            /// The longest wait, in microseconds, between reaching the stage and the cancellation.
            var cancelWithin: Int {
                switch self {
                case .waitingForPermit: 20_000
                case .waitingForFetch: 3_000
                case .waitingForConnection: 5_000
                case .inQuery: 3_000
                case .holding, .done: 500
                }
            }
        }

        @Test(
            .enabled(if: ReliabilityEnvironment.runsPostgresScenarios, ReliabilityEnvironment.skipReason),
            arguments: [false, true])
        func tenThousandRandomCancellationsLeakNothing(multiplexed: Bool) async throws {
            let application = multiplexed ? "keel-storm-multiplexed" : "keel-storm"
            var pool = ReliabilityEnvironment.quietPool()
            pool.maxConnections = 8
            pool.maxLifetime = .milliseconds(300)
            pool.maxLifetimeJitter = 0.5
            pool.validation = .always
            var configuration = try ReliabilityEnvironment.configuration(applicationName: application)
            configuration.multiplexedConnections = multiplexed ? 2 : 0
            let limiter = RateLimiter(maxConcurrent: 40)
            let cache = try Cache<Int, Int, ContinuousClock>(
                configuration: CacheConfiguration(maximumCapacity: 1_000, timeToLive: .milliseconds(5)), clock: ContinuousClock())
            let observer = try await PostgresConnection.connect(
                configuration: ReliabilityEnvironment.configuration(applicationName: "keel-storm-observer"))
            defer { observer.close() }
            let cancelledAt = Tally()
            let outcomes = Tally()
            let taskCount = 10_000

            let start = ContinuousClock.now
            let (statistics, serverSessions, afterwards) = try await ReliabilityEnvironment.withDatabase(configuration, pool: pool) { database in
                await withTaskGroup(of: Void.self) { group in
                    for index in 0..<taskCount {
                        group.addTask {
                            // Each task is cancelled a random moment after it reaches a stage picked
                            // at random (or never, for one in six).
                            let target = Stage.allCases.randomElement()!
                            let stage = Locked(Stage.waitingForPermit)
                            let handle = Locked<Task<Void, any Error>?>(nil)
                            @Sendable func reach(_ reached: Stage) {
                                stage.withLock { $0 = reached }
                                guard reached == target, reached != .done else { return }
                                Task {
                                    try? await Task.sleep(for: .microseconds(Int.random(in: 0...target.cancelWithin)))
                                    while handle.withLock({ $0 }) == nil { await Task.yield() }
                                    handle.withLock { $0 }?.cancel()
                                }
                            }
                            let work = Task {
                                reach(.waitingForPermit)
                                try await limiter.withPermit {
                                    reach(.waitingForFetch)
                                    _ = try await cache.value(for: index % 16) {
                                        try await Task.sleep(for: .milliseconds(Int.random(in: 1...5)))
                                        return index
                                    }
                                    /// Queries `index` back after a pause of up to 4 ms.
                                    func query(on database: any SQLDatabase) async throws {
                                        reach(.inQuery)
                                        let pause = Double.random(in: 0...0.004)
                                        let rows = try await database.query("SELECT \(index)::bigint, pg_sleep(\(pause))")
                                        guard try rows.first?.decode(Int.self, at: 0) == index else {
                                            throw StormError.wrongAnswer
                                        }
                                    }
                                    if multiplexed {
                                        try await query(on: database)
                                        reach(.done)
                                        return
                                    }
                                    reach(.waitingForConnection)
                                    try await database.withConnection { connection in
                                        try await query(on: connection)
                                        reach(.holding)
                                        try await Task.sleep(for: .microseconds(Int.random(in: 0...500)))
                                    }
                                    reach(.done)
                                }
                            }
                            handle.withLock { $0 = work }
                            switch await work.result {
                            case .success:
                                outcomes.add("succeeded")
                            case .failure(let error) where error is CancellationError:
                                outcomes.add("cancelled")
                                cancelledAt.add(stage.withLock { $0 }.rawValue)
                            case .failure(let error):
                                outcomes.add("failed")
                                if outcomes["failed"] <= 3 { print("[reliability] storm: unexpected \(type(of: error)): \(error)") }
                            }
                        }
                    }
                }
                let stormTime = ContinuousClock.now - start
                // Background fetches end within milliseconds; give them a moment.
                for _ in 0..<200 where cache.statistics.loadsInFlight > 0 {
                    try await Task.sleep(for: .milliseconds(10))
                }
                // Multiplexed, the statements of cancelled callers still run to their end on the
                // shared connections, which their lanes then give back: give them a moment too.
                for _ in 0..<500 where database.pool.statistics.inUse > 0 {
                    try await Task.sleep(for: .milliseconds(10))
                }
                let statistics = database.pool.statistics
                let serverSessions = try await ReliabilityEnvironment.sessionCount(of: application, using: observer)
                // The pool serves normally afterwards.
                var served = 0
                for value in 0..<200 {
                    let rows = try await database.query("SELECT \(value)::bigint")
                    if try rows.first?.decode(Int.self, at: 0) == value { served += 1 }
                }
                return (statistics, serverSessions, (served, stormTime))
            }

            let limiterStatistics = limiter.statistics
            let cacheStatistics = cache.statistics
            var figures = ScenarioFigures(
                multiplexed
                    ? "4 cancellation storm, multiplexed (10,000 tasks: permit, cache fetch, query on 2 shared connections; cancelled at a random stage)"
                    : "4 cancellation storm (10,000 tasks: permit, cache fetch, connection, query, hold; 5 in 6 cancelled at a random stage)")
            figures.record("storm took", afterwards.1)
            figures.record("succeeded / cancelled / failed otherwise", "\(outcomes["succeeded"]) / \(outcomes["cancelled"]) / \(outcomes["failed"])")
            figures.record("cancelled while", Stage.allCases.map { "\($0.rawValue): \(cancelledAt[$0.rawValue])" }.joined(separator: ", "))
            figures.record("pool after: in use / waiting / connecting / open", "\(statistics.inUse) / \(statistics.waiting) / \(statistics.connecting) / \(statistics.open)")
            figures.record("server sessions of the pool / connections the pool has open", "\(serverSessions) / \(statistics.open)")
            figures.record("connections opened during the storm (300 ms lifetime)", statistics.created)
            figures.record("limiter after: in flight / queued / cancellations counted", "\(limiterStatistics.inFlight) / \(limiterStatistics.queued) / \(limiterStatistics.cancellations)")
            figures.record("cache after: fetches in flight / fetches run / coalesced waits", "\(cacheStatistics.loadsInFlight) / \(cacheStatistics.loadsSucceeded + cacheStatistics.loadsFailed) / \(cacheStatistics.coalescedWaits)")
            figures.record("queries served normally afterwards", "\(afterwards.0) / 200")
            figures.print()

            #expect(outcomes["succeeded"] + outcomes["cancelled"] == taskCount)
            #expect(outcomes["failed"] == 0)
            #expect(outcomes["cancelled"] > 1_000)
            for stage in multiplexed ? [Stage.waitingForPermit, .inQuery] : [.waitingForPermit, .waitingForConnection, .inQuery, .holding] {
                #expect(cancelledAt[stage.rawValue] > 0, "no task was cancelled \(stage.rawValue)")
            }
            #expect(statistics.inUse == 0 && statistics.waiting == 0)
            #expect(serverSessions <= statistics.open + statistics.connecting)
            #expect(limiterStatistics.inFlight == 0 && limiterStatistics.queued == 0)
            #expect(cacheStatistics.loadsInFlight == 0)
            #expect(afterwards.0 == 200)
        }
    }
}

private enum StormError: Error {
    case wrongAnswer
}
