import Foundation
import KeelTesting
import Pooling
import Redis
import RedisRateLimit
import Testing

extension Reliability {
    /// Scenarios 9–11: fleet-wide limits held by several processes (the `ReliabilityRedisWorker`
    /// executable) on the throwaway Redis of scripts/test.sh.
    @Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
    struct FleetLimits {
        /// The worker executable, built next to the test bundle.
        static var workerPath: String {
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                .appendingPathComponent("ReliabilityRedisWorker").path
        }

        static func worker() throws -> (path: String, environment: [String: String]) {
            try #require(FileManager.default.isExecutableFile(atPath: workerPath), "\(workerPath) was not built")
            var environment = ProcessInfo.processInfo.environment
            environment["REDIS_URL"] = try TestDatabaseEnvironment.requireRedisURL()
            return (workerPath, environment)
        }

        /// `key=N` from a worker's output.
        static func figure(_ key: String, in output: String) throws -> Int {
            let field = output.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix(key + "=") }
            return try #require(field.flatMap { Int($0.dropFirst(key.count + 1)) }, "unexpected worker output: \(output)")
        }

        static func withClient<Result: Sendable>(_ body: (RedisClient) async throws -> Result) async throws -> Result {
            let client = try RedisClient(configuration: RedisConfiguration(url: TestDatabaseEnvironment.requireRedisURL()))
            return try await withRunning({ try await client.run() }, shutdown: { await client.shutdown() }) {
                try await body(client)
            }
        }

        static func uniqueName(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8))" }

        /// Scenario 9: 4 processes × 64 tasks share 100 permits a second (burst 10) for 10 s.
        @Test func fourProcessesShareOneTokenBucket() async throws {
            let (worker, environment) = try Self.worker()
            let name = Self.uniqueName("bucket")
            let rate = 100
            let burst = 10
            let outputs = try await withThrowingTaskGroup(of: (status: Int32, output: String).self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await runProgram(worker, arguments: ["bucket", name, "64", "10", String(rate), String(burst)], environment: environment)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for output in outputs { #expect(output.status == 0, "a worker exited with \(output.status): \(output.output)") }
            let perProcess = try outputs.map { try Self.figure("admitted", in: $0.output) }
            let prefix = "keel-reliability:{\(name)}:"
            let (counted, first, last) = try await Self.withClient { client in
                let replies = try await client.pipeline(["admitted", "first", "last"].map { RedisCommand("GET", prefix + $0) })
                try await client.send(RedisCommand("DEL", ["admitted", "first", "last"].map { prefix + $0 } + ["keel:ratelimit:{\(name)}"]))
                return (try replies[0].get().integer ?? 0, try replies[1].get().integer ?? 0, try replies[2].get().integer ?? 0)
            }
            // From the first request (before any admission) to the last admission's count (after
            // it): at least the time between the first and the last admission.
            let span = Double(last - first) / 1e6
            let allowed = Double(burst) + Double(rate) * span
            var figures = ScenarioFigures("9 fleet token bucket (4 processes × 64 tasks, 100/s, burst 10, 10 s)")
            figures.record("admitted per process", perProcess.map(String.init).joined(separator: " / "))
            figures.record("admitted, counted apart in Redis", counted)
            figures.record("first request to last admission (Redis TIME)", String(format: "%.3f s", span))
            figures.record("admitted / burst + rate × span", String(format: "%d / %.1f (%.4f)", counted, allowed, Double(counted) / allowed))
            figures.record("admitted / rate × span", String(format: "%.4f", Double(counted) / (Double(rate) * span)))
            figures.print()
            #expect(Int64(perProcess.reduce(0, +)) == counted)
            #expect(Double(counted) <= allowed)
            #expect(Double(counted) >= 0.98 * Double(rate) * span)
            #expect(span > 9)
        }

        /// Scenario 10: 4 processes × 16 tasks through RedisConcurrencyLimit(5) for 5 s.
        @Test func fourProcessesNeverHoldMoreThanFive() async throws {
            let (worker, environment) = try Self.worker()
            let name = Self.uniqueName("holders")
            let outputs = try await withThrowingTaskGroup(of: (status: Int32, output: String).self) { group in
                for _ in 0..<4 {
                    group.addTask { try await runProgram(worker, arguments: ["holders", name, "16", "5", "5"], environment: environment) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for output in outputs { #expect(output.status == 0, "a worker exited with \(output.status): \(output.output)") }
            let runs = try outputs.map { try Self.figure("runs", in: $0.output) }
            let prefix = "keel-reliability:{\(name)}:"
            let (most, holding) = try await Self.withClient { client in
                let replies = try await client.pipeline([RedisCommand("GET", prefix + "most"), RedisCommand("GET", prefix + "holding")])
                try await client.send(RedisCommand("DEL", prefix + "most", prefix + "holding"))
                return (try replies[0].get().integer ?? 0, try replies[1].get().integer ?? 0)
            }
            var figures = ScenarioFigures("10 fleet concurrency limit (4 processes × 16 tasks, at most 5, 5 s)")
            figures.record("calls per process", runs.map(String.init).joined(separator: " / "))
            figures.record("most holders at once, counted by the holders in Redis", most)
            figures.print()
            #expect(most >= 1 && most <= 5)
            #expect(holding == 0)
            #expect(runs.allSatisfy { $0 > 10 }, "a process barely ran: \(runs)")
        }

        /// Scenario 11: a holder is SIGKILLed; its permit comes back within its lease.
        @Test func aKilledHoldersPermitReturnsWithinItsLease() async throws {
            let (worker, environment) = try Self.worker()
            let name = Self.uniqueName("killed")
            let lease = Duration.seconds(1)
            try await Self.withClient { client in
                let pidKey = "keel-reliability:{\(name)}:pid"
                async let held = runProgram(worker, arguments: ["hold", name, "1000"], environment: environment)
                // The worker stores its process id once it holds the permit.
                var pid: Int64?
                for _ in 0..<1_000 where pid == nil {
                    pid = try await client.send(RedisCommand("GET", pidKey)).integer
                    if pid == nil { try await Task.sleep(for: .milliseconds(5)) }
                }
                let holder = try #require(pid, "the worker took no permit")
                #expect(kill(pid_t(holder), SIGKILL) == 0)
                let killedAt = ContinuousClock.now
                let limit = try RedisConcurrencyLimit(name: name, maxHolders: 1, client: client, lease: lease, pollInterval: .milliseconds(10))
                try await limit.withPermit {}
                let returnedAfter = ContinuousClock.now - killedAt
                let exit = try await held
                var figures = ScenarioFigures("11 a SIGKILLed holder (lease 1 s)")
                figures.record("worker exit status", exit.status)
                figures.record("permit back after the kill", String(format: "%.0f ms", returnedAfter.milliseconds))
                figures.print()
                #expect(exit.status == 128 + SIGKILL)
                #expect(returnedAfter <= lease + .milliseconds(250))
                try await client.send(
                    RedisCommand("DEL", ["holders", "queue", "deadlines", "state"].map { "keel:permits:{\(name)}:" + $0 } + [pidKey]))
            }
        }
    }
}
