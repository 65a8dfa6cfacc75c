import CircuitBreaker
import Pooling
import PostgresPool
import SQLCore
import Testing

extension Reliability {
    /// Scenario 2: every pool connection is ended with `pg_terminate_backend` once a second for
    /// 10 s while 32 tasks query through Keel's retry policy.
    @Suite struct KilledConnections {
        @Test(.enabled(if: ReliabilityEnvironment.runsPostgresScenarios, ReliabilityEnvironment.skipReason))
        func everyQuerySucceedsWithRetriesWhileConnectionsAreKilledEverySecond() async throws {
            let application = "keel-killed"
            var pool = ReliabilityEnvironment.quietPool()
            pool.maxConnections = 10
            pool.acquireTimeout = .seconds(10)
            pool.validation = .never  // the kills must be found by queries, not by a pre-ping
            let configuration = try ReliabilityEnvironment.configuration(applicationName: application)
            let killer = try await PostgresConnection.connect(
                configuration: ReliabilityEnvironment.configuration(applicationName: "keel-killer"))
            defer { killer.close() }

            var policy = RetryPolicy(maxAttempts: 5, initialDelay: .milliseconds(20), maxDelay: .milliseconds(500))
            policy.shouldRetry = { error in
                if let error = error as? PostgresError { return error.isConnectionFailure }
                return error is PoolError
            }
            let retryPolicy = policy
            let tally = Tally()
            let duration = Duration.seconds(10)

            let statistics = try await ReliabilityEnvironment.withDatabase(configuration, pool: pool) { database in
                let start = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        var round = 0
                        while ContinuousClock.now - start < duration {
                            round += 1
                            try await ContinuousClock().sleep(until: start.advanced(by: .seconds(round)))
                            let ended = try await ReliabilityEnvironment.terminateSessions(of: application, using: killer)
                            tally.add("rounds")
                            tally.add("sessions ended", ended)
                        }
                    }
                    for task in 0..<32 {
                        group.addTask {
                            var call = 0
                            while ContinuousClock.now - start < duration {
                                call += 1
                                var attempts = 0
                                do {
                                    let rows = try await retry(retryPolicy) {
                                        attempts += 1
                                        return try await database.query("SELECT \(task * 1_000_000 + call)::bigint AS echo")
                                    }
                                    if try rows.first?.decode(Int.self, at: 0) == task * 1_000_000 + call {
                                        tally.add("succeeded")
                                    } else {
                                        tally.add("wrong answer")
                                    }
                                } catch {
                                    tally.add("failed after retries")
                                    if tally["failed after retries"] <= 3 { print("[reliability] failed after retries: \(error)") }
                                }
                                tally.add("retries", attempts - 1)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                return database.pool.statistics
            }

            let succeeded = tally["succeeded"]
            let failed = tally["failed after retries"] + tally["wrong answer"]
            let rate = Double(succeeded) / Double(max(1, succeeded + failed)) * 100
            var figures = ScenarioFigures("2 killed connections (32 tasks, 10 connections, all ended every second for 10 s)")
            figures.record("kill rounds / sessions ended", "\(tally["rounds"]) / \(tally["sessions ended"])")
            figures.record("queries succeeded / failed after retries", "\(succeeded) / \(failed)")
            figures.record("success rate after retries", String(format: "%.3f %%", rate))
            figures.record("retries made", tally["retries"])
            figures.record("connections opened / closed as broken", "\(statistics.created) / \(statistics.closed(.broken))")
            figures.record("after the run: in use / waiting / open", "\(statistics.inUse) / \(statistics.waiting) / \(statistics.open)")
            figures.print()

            #expect(tally["rounds"] >= 9)
            #expect(tally["sessions ended"] >= 9, "the killer must have ended connections in most rounds")
            #expect(failed == 0)
            #expect(succeeded > 1_000)
            #expect(statistics.inUse == 0 && statistics.waiting == 0)
            let remaining = try await ReliabilityEnvironment.sessionCount(of: application, using: killer)
            #expect(remaining == 0, "the shut-down pool left \(remaining) sessions on the server")
        }
    }
}
