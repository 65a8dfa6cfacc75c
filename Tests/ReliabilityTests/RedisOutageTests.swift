import Foundation
import KeelCore
import KeelTesting
import Pooling
import RateLimit
import Redis
import RedisRateLimit
import Testing

extension Reliability {
    /// Scenario 12: Redis stops answering for 3 s (SIGSTOP, then SIGCONT) while 24 tasks call
    /// through three fleet limiters, one per failure policy.
    @Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
    struct RedisOutage {
        /// What one call did, and when (seconds since the start), for how long.
        struct Call: Sendable {
            enum Outcome: Sendable { case allowed, denied, unavailable, other(String) }
            let limiter: Int
            let at: Double
            let took: Duration
            let outcome: Outcome
        }

        @Test func everyLimiterFollowsItsPolicyAndRecovers() async throws {
            let pidFile = try #require(
                ProcessInfo.processInfo.environment["KEEL_REDIS_PID_FILE"], "KEEL_REDIS_PID_FILE is not set: run scripts/test.sh")
            let pidText = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let redisPID = try #require(pid_t(pidText))
            var configuration = try RedisConfiguration(url: TestDatabaseEnvironment.requireRedisURL())
            let timeout = Duration.milliseconds(500)
            configuration.commandTimeout = timeout
            configuration.connectTimeout = timeout
            var pool = PoolConfiguration()
            pool.maxConnections = 8
            pool.acquireTimeout = timeout
            pool.connectRetryDelay = .milliseconds(10)
            pool.maxConnectRetryDelay = .milliseconds(100)
            let client = try RedisClient(configuration: configuration, pool: pool)
            let name = "outage-\(UUID().uuidString.prefix(8))"
            let probe = Duration.milliseconds(200)
            let closed = try RedisTokenBucket(
                name: name + "-closed", rate: 50, per: .seconds(1), burst: 5, client: client, probeInterval: probe)
            let open = try RedisTokenBucket(
                name: name + "-open", rate: 50, per: .seconds(1), burst: 5, client: client, failurePolicy: .failOpen,
                probeInterval: probe)
            let local = try RedisRateLimiter(
                name: name + "-local", limits: PermitLimits(maxConcurrent: 4, minInterval: .milliseconds(20)), client: client,
                pollInterval: .milliseconds(10), failurePolicy: .localFallback(share: 0.5), probeInterval: probe)
            let start = ContinuousClock.now
            let stopAt = Duration.seconds(2)
            let resumeAt = Duration.seconds(5)
            let end = Duration.seconds(8)
            let calls = Locked<[Call]>([])
            try await withRunning({ try await client.run() }, shutdown: { await client.shutdown() }) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await Task.sleep(until: start.advanced(by: stopAt))
                        kill(redisPID, SIGSTOP)
                        try await Task.sleep(until: start.advanced(by: resumeAt))
                        kill(redisPID, SIGCONT)
                    }
                    for task in 0..<24 {
                        let limiter = task % 3
                        group.addTask {
                            while start.duration(to: .now) < end {
                                let began = ContinuousClock.now
                                let outcome: Call.Outcome
                                do {
                                    switch limiter {
                                    case 0: outcome = try await closed.tryAcquire() == nil ? .allowed : .denied
                                    case 1: outcome = try await open.tryAcquire() == nil ? .allowed : .denied
                                    default:
                                        try await local.withPermit {}
                                        outcome = .allowed
                                    }
                                } catch RedisRateLimitError.Code.unavailable {
                                    outcome = .unavailable
                                } catch {
                                    outcome = .other("\(error)")
                                }
                                let took = began.duration(to: .now)
                                calls.withLock {
                                    $0.append(Call(limiter: limiter, at: start.duration(to: began).inSeconds, took: took, outcome: outcome))
                                }
                                // A caller does some work between calls (and never spins on a limiter
                                // that answers without suspending, as failOpen does in an outage).
                                try await Task.sleep(for: .milliseconds(2))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            // Redis must answer again whatever happened above.
            kill(redisPID, SIGCONT)
            let all = calls.withLock { $0 }
            let longest = all.map(\.took).max() ?? .zero
            /// The calls of `limiter` that began at or after `from` and ended before `to`, and match.
            func count(_ limiter: Int, from: Double, to: Double, _ matches: (Call.Outcome) -> Bool) -> Int {
                all.filter { $0.limiter == limiter && $0.at >= from && $0.at + $0.took.inSeconds < to && matches($0.outcome) }.count
            }
            let allowed: (Call.Outcome) -> Bool = { if case .allowed = $0 { true } else { false } }
            let unavailable: (Call.Outcome) -> Bool = { if case .unavailable = $0 { true } else { false } }
            let others = all.compactMap { call -> String? in if case .other(let text) = call.outcome { text } else { nil } }
            // The outage as the limiters saw it: from one timeout after the stop to the resume.
            let outage = (from: stopAt.inSeconds + timeout.inSeconds + 0.1, to: resumeAt.inSeconds)
            let after = (from: resumeAt.inSeconds + 1.0, to: end.inSeconds)
            let closedAllowedInOutage = count(0, from: outage.from, to: outage.to, allowed)
            let closedUnavailable = count(0, from: outage.from, to: outage.to, unavailable)
            let openAllowedInOutage = count(1, from: outage.from, to: outage.to, allowed)
            let localInOutage = count(2, from: outage.from, to: outage.to, allowed)
            let closedAllowedAfter = count(0, from: after.from, to: after.to + 1, allowed)
            let openAllowedAfter = count(1, from: after.from, to: after.to + 1, allowed)
            // When the failClosed limiter first refused for want of Redis, after the stop.
            let firstRefusal = all.filter { $0.limiter == 0 && unavailable($0.outcome) }.map { $0.at + $0.took.inSeconds }.min()
            let switchedAfter = (firstRefusal ?? .infinity) - stopAt.inSeconds

            var figures = ScenarioFigures("12 Redis stopped for 3 s (SIGSTOP) under three limiters, 24 tasks, 8 s")
            figures.record("calls / longest call", "\(all.count) / \(longest.milliseconds) ms (timeouts \(timeout.milliseconds) ms)")
            figures.record("failClosed refused for want of Redis after the stop", String(format: "%.0f ms", switchedAfter * 1000))
            figures.record("failClosed in the outage: allowed / unavailable", "\(closedAllowedInOutage) / \(closedUnavailable)")
            figures.record("failOpen allowed in the outage", openAllowedInOutage)
            figures.record("localFallback calls in the outage", localInOutage)
            figures.record("after: failClosed / failOpen allowed (50/s, burst 5, over 2 s)", "\(closedAllowedAfter) / \(openAllowedAfter)")
            figures.record("outages counted (closed, open, local)", "\(closed.statistics.outages), \(open.statistics.outages), \(local.statistics.outages)")
            figures.record("other errors", others.count)
            figures.print()

            #expect(others.isEmpty, "\(others.prefix(3))")
            // A call waits at most for a pooled connection and a command, to take its permit and
            // (a permit limiter) to give it back: four timeouts.
            #expect(longest <= timeout * 4 + .milliseconds(250), "a call hung for \(longest)")
            #expect(switchedAfter <= (timeout + .milliseconds(300)).inSeconds, "the switch took \(switchedAfter) s")
            #expect(closedAllowedInOutage == 0)
            #expect(closedUnavailable > 0)
            #expect(openAllowedInOutage > 0)
            #expect(localInOutage > 0)
            // The limits hold again once Redis answers: at most burst + rate × 2 s in the last 2 s.
            #expect(closedAllowedAfter > 0 && closedAllowedAfter <= 5 + 100 + 1)
            #expect(openAllowedAfter > 0 && openAllowedAfter <= 5 + 100 + 1)
            #expect(closed.statistics.isRedisReachable && open.statistics.isRedisReachable && local.statistics.isRedisReachable)
            #expect(closed.statistics.outages >= 1 && open.statistics.outages >= 1 && local.statistics.outages >= 1)
        }
    }
}
