import CacheRedis
import Foundation
import Glibc
import KeelTesting
import Redis
import Testing

extension Reliability {
    /// Scenarios 13–15: a TieredCache shared by several processes (the `ReliabilityRedisWorker`
    /// executable) on the throwaway Redis of scripts/test.sh.
    @Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
    struct TieredCacheFleet {
        static func monotonicNanoseconds() -> UInt64 {
            var time = timespec()
            clock_gettime(CLOCK_MONOTONIC, &time)
            return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
        }

        /// `key=value` from a worker's output.
        static func field(_ key: String, in output: String) throws -> String {
            let field = output.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix(key + "=") }
            return try #require(field.map { String($0.dropFirst(key.count + 1)) }, "unexpected worker output: \(output)")
        }

        /// Scenario 13: 1,000 invalidations published by this process, each applied by another.
        @Test func anInvalidationReachesAnotherProcessWithin5Milliseconds() async throws {
            let (worker, environment) = try FleetLimits.worker()
            let name = FleetLimits.uniqueName("listen")
            let count = 1_000
            try await FleetLimits.withClient { client in
                async let listened = runProgram(worker, arguments: ["listen", name, String(count)], environment: environment)
                let cache = try TieredCache(
                    configuration: TieredCacheConfiguration(name: name, maximumCapacity: 100, timeToLive: .seconds(60)),
                    codec: JSONTieredCacheCodec<String>(), client: client)
                var sent: [UInt64] = []
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await cache.run() }
                    defer { group.cancelAll() }
                    var ready = false
                    for _ in 0..<2_000 where !ready {
                        ready = try await client.send(RedisCommand("GET", "keel-reliability:{\(name)}:ready")).integer == 1
                        if !ready { try await Task.sleep(for: .milliseconds(5)) }
                    }
                    try #require(ready, "the listening worker never subscribed")
                    for index in 0..<count {
                        sent.append(Self.monotonicNanoseconds())
                        await cache.invalidate(key: "k\(index)")
                        try await Task.sleep(for: .milliseconds(2))
                    }
                }
                let run = try await listened
                #expect(run.status == 0, "the worker exited with \(run.status): \(run.output)")
                let received = try Self.field("times", in: run.output).split(separator: ",").compactMap { UInt64($0) }
                try #require(received.count == count, "the worker applied \(received.count) of \(count) invalidations")
                let latencies = zip(sent, received).map { Double(Int64($1) - Int64($0)) / 1e6 }
                var figures = ScenarioFigures("13 invalidation across processes (1,000, one every 2 ms)")
                figures.record("applied by the other process", received.count)
                figures.record("p50 / p99 / max", String(
                    format: "%.2f / %.2f / %.2f ms", percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.max() ?? 0))
                figures.print()
                #expect(percentile(latencies, 0.99) <= 5)
                #expect(latencies.allSatisfy { $0 > 0 })
                try await client.send(RedisCommand("DEL", "keel-reliability:{\(name)}:ready"))
            }
        }

        /// Scenario 14: 4 processes × 100 tasks ask for the same cold key at once.
        @Test func fourHundredCallersInFourProcessesFetchOnce() async throws {
            let (worker, environment) = try FleetLimits.worker()
            let name = FleetLimits.uniqueName("stampede")
            // Far enough ahead for every process to start and subscribe.
            let start = Self.monotonicNanoseconds() + 3_000_000_000
            let outputs = try await withThrowingTaskGroup(of: (status: Int32, output: String).self) { group in
                for _ in 0..<4 {
                    group.addTask { try await runProgram(worker, arguments: ["stampede", name, "100", String(start)], environment: environment) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for output in outputs { #expect(output.status == 0, "a worker exited with \(output.status): \(output.output)") }
            let counted = try await FleetLimits.withClient { client in
                let fetches = try await client.send(RedisCommand("GET", "keel-reliability:{\(name)}:fetches")).integer
                try await client.send(RedisCommand("DEL", "keel-reliability:{\(name)}:fetches", "keel:cache:\(name):k:cold"))
                return fetches ?? 0
            }
            let values = try outputs.map { try Self.field("values", in: $0.output) }
            let fetched = try Set(outputs.map { try Self.field("value", in: $0.output) })
            let late = Self.monotonicNanoseconds() > start
            var figures = ScenarioFigures("14 one cold key, 4 processes × 100 tasks")
            figures.record("fetches, counted in Redis", counted)
            figures.record("fetches per process", try outputs.map { try Self.field("fetches", in: $0.output) }.joined(separator: " / "))
            figures.record("values per process", values.joined(separator: " / "))
            figures.record("distinct values", fetched.count)
            figures.print()
            #expect(late)
            #expect(counted == 1)
            #expect(values == ["100", "100", "100", "100"])
            #expect(fetched.count == 1 && !(fetched.first ?? "").contains("|"))
        }

        /// Scenario 15: Redis is killed (SIGKILL) for 2 s while 4 processes read and invalidate,
        /// then started again, empty.
        @Test func aKilledRedisCostsNoCallerAnErrorNorServesAnOldValue() async throws {
            let (worker, environment) = try FleetLimits.worker()
            let pidFile = try #require(
                ProcessInfo.processInfo.environment["KEEL_REDIS_PID_FILE"], "KEEL_REDIS_PID_FILE is not set: run scripts/test.sh")
            let configurationFile = URL(fileURLWithPath: pidFile).deletingLastPathComponent().appendingPathComponent("redis.conf").path
            let name = FleetLimits.uniqueName("churn")
            let outputs = try await withThrowingTaskGroup(of: (status: Int32, output: String)?.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await runProgram(worker, arguments: ["churn", name, "12"], environment: environment) }
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(3))
                    let pid = try #require(pid_t(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
                    kill(pid, SIGKILL)
                    while kill(pid, 0) == 0 { try await Task.sleep(for: .milliseconds(10)) }
                    try await Task.sleep(for: .seconds(2))
                    let started = try await runProgram("/usr/bin/redis-server", arguments: [configurationFile])
                    #expect(started.status == 0, "redis-server did not start again: \(started.output)")
                    return nil
                }
                return try await group.reduce(into: [(status: Int32, output: String)]()) { if let output = $1 { $0.append(output) } }
            }
            for output in outputs { #expect(output.status == 0, "a worker exited with \(output.status): \(output.output)") }
            func figures(_ key: String) throws -> [Int] { try outputs.map { try #require(Int(Self.field(key, in: $0.output))) } }
            // A value lives 1 s in Redis; a copy in memory at most 300 ms more; 200 ms for scheduling.
            let bound = 1_000 + 300 + 200
            var report = ScenarioFigures("15 Redis killed for 2 s under 4 processes × 16 tasks reading and invalidating")
            report.record("reads per process", try figures("reads").map(String.init).joined(separator: " / "))
            report.record("caller errors", try figures("errors").reduce(0, +))
            report.record("oldest value served (ms, per process)", try figures("max-age-ms").map(String.init).joined(separator: " / "))
            report.record("outages seen per process", try figures("outages").map(String.init).joined(separator: " / "))
            report.record("memory cleared on (re)subscription per process", try figures("clears").map(String.init).joined(separator: " / "))
            report.print()
            #expect(try figures("errors").allSatisfy { $0 == 0 })
            #expect(try figures("max-age-ms").allSatisfy { $0 <= bound })
            #expect(try figures("outages").allSatisfy { $0 >= 1 })
            #expect(try figures("clears").allSatisfy { $0 >= 2 })
            #expect(try figures("subscribed").allSatisfy { $0 == 1 })
            #expect(try figures("reads").allSatisfy { $0 > 1_000 })
        }
    }
}
