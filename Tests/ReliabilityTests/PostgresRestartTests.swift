import Foundation
import KeelCore
import Pooling
import PostgresPool
import SQLCore
import Testing

extension Reliability {
    /// Scenario 1: 64 tasks query through a 20-connection pool for 20 s; the server is restarted
    /// (`pg_ctl restart -m fast`) at 5 s.
    @Suite struct PostgresRestart {
        /// What happened to one query.
        struct Outcome {
            var started: ContinuousClock.Instant
            var ended: ContinuousClock.Instant
            /// The server's start time the query saw, when it succeeded.
            var serverStart: Double?
            var error: (any Error)?
        }

        /// Whether an error is one a restart should produce: a connection failure, or the pool
        /// saying it has no connection.
        static func isClearConnectionError(_ error: any Error) -> Bool {
            if let error = error as? PostgresError { return error.isConnectionFailure }
            if let error = error as? PoolError { return error.code == .connectionUnavailable || error.code == .acquireTimeout }
            return false
        }

        @Test(.enabled(if: ReliabilityEnvironment.runsPostgresScenarios, ReliabilityEnvironment.skipReason))
        func poolRecoversFromAServerRestartUnderLoad() async throws {
            let restartScript = try #require(
                ReliabilityEnvironment.restartScript, "KEEL_RELIABILITY_PG_RESTART is not set: run through scripts/test.sh")
            let application = "keel-restart"
            var pool = ReliabilityEnvironment.quietPool()
            pool.maxConnections = 20
            pool.acquireTimeout = .seconds(5)
            pool.connectTimeout = .seconds(5)
            pool.maxConnectRetryDelay = .milliseconds(500)
            let configuration = try ReliabilityEnvironment.configuration(applicationName: application)
            let outcomes = Locked<[Outcome]>([])
            let restart = Locked<(began: ContinuousClock.Instant?, back: ContinuousClock.Instant?)>((nil, nil))
            let duration = Duration.seconds(20)

            let (statistics, firstServerStart) = try await ReliabilityEnvironment.withDatabase(configuration, pool: pool) { database in
                let firstServerStart = try await database.query(
                    "SELECT extract(epoch FROM pg_postmaster_start_time())::float8")[0].decode(Double.self, at: 0)
                let start = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await ContinuousClock().sleep(until: start.advanced(by: .seconds(5)))
                        restart.withLock { $0.began = .now }
                        let (status, _) = try await runProgram("/bin/sh", arguments: [restartScript])
                        restart.withLock { $0.back = .now }
                        #expect(status == 0, "the restart script failed")
                    }
                    for _ in 0..<64 {
                        group.addTask {
                            while ContinuousClock.now - start < duration {
                                let began = ContinuousClock.now
                                var outcome = Outcome(started: began, ended: began)
                                do {
                                    let rows = try await database.query(
                                        "SELECT extract(epoch FROM pg_postmaster_start_time())::float8, pg_sleep(0.002)")
                                    outcome.serverStart = try rows[0].decode(Double.self, at: 0)
                                } catch {
                                    outcome.error = error
                                    // Back off a little as a real client would, without hiding a hang.
                                    try await Task.sleep(for: .milliseconds(10))
                                }
                                outcome.ended = .now
                                outcomes.withLock { $0.append(outcome) }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                return (database.pool.statistics, firstServerStart)
            }

            let all = outcomes.withLock { $0 }
            let (began, back) = restart.withLock { $0 }
            let serverBack = try #require(back)
            let restartBegan = try #require(began)
            let errors = all.compactMap(\.error)
            let unclear = errors.filter { !Self.isClearConnectionError($0) }
            let longest = all.map { $0.started.duration(to: $0.ended) }.max() ?? .zero
            let afterRecovery = all.filter { ($0.serverStart ?? firstServerStart) != firstServerStart }
            let firstSuccess = afterRecovery.map(\.ended).min()
            let recovery = firstSuccess.map { serverBack.duration(to: $0) }
            let successesBefore = all.filter { $0.serverStart == firstServerStart }.count
            let errorKinds = Dictionary(grouping: errors.map { error -> String in
                if let error = error as? PostgresError { return "PostgresError \(error.code) \(error.sqlState ?? "")" }
                if let error = error as? PoolError { return "PoolError \(error.code)" }
                return String(describing: type(of: error))
            }, by: { $0 }).mapValues(\.count)

            var figures = ScenarioFigures("1 PostgreSQL restart under load (64 tasks, 20 connections, 20 s, restart at 5 s)")
            figures.record("restart took (pg_ctl restart -m fast)", restartBegan.duration(to: serverBack).formattedMilliseconds)
            figures.record("queries succeeded before / after the restart", "\(successesBefore) / \(afterRecovery.count)")
            figures.record("errors surfaced", errors.count)
            figures.record("errors by kind", errorKinds.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
            figures.record("errors that are not clear connection errors", unclear.count)
            figures.record("server back to first success", recovery?.formattedMilliseconds ?? "never")
            figures.record("longest single call", longest.formattedMilliseconds)
            figures.record("at the end: in use / waiting / open (max)", "\(statistics.inUse) / \(statistics.waiting) / \(statistics.open) (\(pool.maxConnections))")
            figures.record("connections opened / closed as broken", "\(statistics.created) / \(statistics.closed(.broken))")
            figures.print()

            for error in unclear.prefix(3) { Issue.record("not a clear connection error: \(error)") }
            #expect(unclear.isEmpty)
            #expect(!errors.isEmpty, "a restart under load should surface some errors")
            #expect(afterRecovery.count > 1_000)
            #expect(try #require(recovery) < .seconds(2))
            #expect(longest < pool.acquireTimeout + .seconds(1), "a call hung for \(longest)")
            #expect(statistics.inUse == 0 && statistics.waiting == 0 && statistics.open <= pool.maxConnections)
        }
    }
}
