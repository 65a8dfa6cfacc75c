// Suite `redis`: Keel's Redis client and its fleet-wide GCRA against redis-benchmark (Redis's own
// C load generator, one event loop) on the throwaway Redis that scripts/bench.sh starts, in the
// same run.
//
// - get-64tasks: `GET` of a 3-byte value (redis-benchmark's default size) from 64 tasks over a
//   pool of 64 connections; the peer is `redis-benchmark -c 64 GET <key>`.
// - gcra-64tasks: one `RedisTokenBucket.tryAcquire()` (an EVALSHA of its GCRA script) from 64
//   tasks over 64 connections; the peer is `redis-benchmark -c 64 EVALSHA <the same script's
//   digest> 1 <key> <tolerance> <increment>` with the same arguments. The rate (a million a
//   second, burst 1,000) admits nearly every call, so both sides run the script's write.
// - gcra-1task: the same check from one task, for its latency (p50 and p99); 2,000 a sample.
// - tiered-l2-hit: `TieredCache.value(for:orFetch:)` from 64 tasks over 64 connections, each a
//   level-2 hit: 20,000 keys stored in Redis, drawn uniformly, a memory level of 64 entries (so
//   nearly every call misses memory, reads the value and its time to live from Redis in one round
//   trip, decodes it and keeps it in memory). Values are 3-byte strings (a UTF-8 codec). The peer
//   is `redis-benchmark -c 64 GET` of a 3-byte value, as for get-64tasks.
// - tiered-l1-hit: `TieredCache.value(for:orFetch:)` from one task on 1,000 keys all in memory,
//   against `Cache.value(for:orFetch:)` on the same keys (`cache`): what the tiered cache adds to
//   a memory hit. 100,000 calls a sample; Redis is not asked.
//
// `keel` runs its tasks on Swift's global executor, `keel-on-reactor` creates them preferring
// `RedisClient.taskExecutor` (the reactor's thread, where a reply resumes its task at once).
//
// Each sample runs `operationsPerSample` operations (redis-benchmark: `-n`) and records the rate
// it measured itself ("queries per second", finer than package-benchmark's samples per second;
// for redis-benchmark, the requests per second it prints), and for Keel the p50 and p99 latency,
// the client's CPU time per operation and its context switches per 1,000 operations (getrusage).

import Benchmark
import Cache
import CacheRedis
import Foundation
import Logging
import Pooling
import RateLimit
import Redis
import RedisRateLimit
import Synchronization

let operationsPerSample = 20_000
let connections = 64
let tasks = 64

enum BenchmarkSetupError: Error {
    case noRedisURL
    case redisBenchmarkFailed(String)
}

func redisConfiguration() throws -> RedisConfiguration {
    guard let url = ProcessInfo.processInfo.environment["TEST_REDIS_URL"], !url.isEmpty else {
        throw BenchmarkSetupError.noRedisURL
    }
    return try RedisConfiguration(url: url)
}

/// The process's CPU time and context switches (voluntary and not) so far.
func usage() -> (cpu: Duration, contextSwitches: Int) {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func duration(_ time: timeval) -> Duration { .seconds(Int64(time.tv_sec)) + .microseconds(Int64(time.tv_usec)) }
    return (duration(usage.ru_utime) + duration(usage.ru_stime), usage.ru_nvcsw + usage.ru_nivcsw)
}

func nanoseconds(_ duration: Duration) -> Int {
    Int(duration.components.seconds) * 1_000_000_000 + Int(duration.components.attoseconds / 1_000_000_000)
}

/// A running client with every connection open, shared by a benchmark's samples.
final class Fixture: Sendable {
    let client: RedisClient
    let running: Task<Void, any Error>
    let bucket: RedisTokenBucket<ContinuousClock>

    init(connections: Int) async throws {
        var pool = PoolConfiguration()
        pool.minConnections = connections
        pool.maxConnections = connections
        pool.validation = .never
        client = try RedisClient(configuration: redisConfiguration(), pool: pool)
        let client = client
        running = Task { try await client.run() }
        while client.pool.statistics.open < connections { try await Task.sleep(for: .milliseconds(1)) }
        bucket = try RedisTokenBucket(
            name: "bench-keel-\(UUID().uuidString.prefix(8))", rate: 1_000_000, per: .seconds(1), burst: 1_000,
            client: client)
        try await client.send(RedisCommand("SET", "bench:get", "xxx"))
        _ = try await bucket.tryAcquire()
    }

    func close() async {
        await client.shutdown()
        _ = try? await running.value
    }
}

let fixtures = Mutex<[String: Fixture]>([:])

/// Strings as their UTF-8 bytes.
struct UTF8Codec: TieredCacheCodec {
    let version: UInt8 = 1
    func encode(_ value: String) throws -> [UInt8] { Array(value.utf8) }
    func decode(_ bytes: [UInt8]) throws -> String { String(decoding: bytes, as: UTF8.self) }
}

let tieredKeys = (0..<20_000).map { "k\($0)" }
let memoryKeys = (0..<1_000).map { "m\($0)" }

/// A tiered cache on a fixture's client.
final class TieredFixture: Sendable {
    let fixture: Fixture
    let cache: TieredCache<String, ContinuousClock>

    /// A cache whose memory level holds `capacity` values, with `keys` stored in Redis and in
    /// memory (for as long as the benchmark runs).
    init(connections: Int, capacity: Int, keys: [String]) async throws {
        fixture = try await Fixture(connections: connections)
        cache = try await tieredCache(fixture, capacity: capacity, keys: keys)
    }
}

func tieredCache(_ fixture: Fixture, capacity: Int, keys: [String]) async throws -> TieredCache<String, ContinuousClock> {
    var configuration = TieredCacheConfiguration(name: "bench-\(UUID().uuidString.prefix(8))", maximumCapacity: capacity, timeToLive: .seconds(600))
    configuration.maximumLocalAge = .seconds(600)
    let cache = try TieredCache(configuration: configuration, codec: UTF8Codec(), client: fixture.client)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<tasks {
            group.addTask {
                for index in stride(from: worker, to: keys.count, by: tasks) { await cache.insert("xxx", for: keys[index]) }
            }
        }
        try await group.waitForAll()
    }
    return cache
}

/// Runs one sample of `operations` calls of `operation` over `workers` tasks and records its rate
/// and latencies.
func sample(
    _ benchmark: Benchmark, workers: Int, operations: Int, executor: (any TaskExecutor)?,
    operation: @escaping @Sendable () async throws -> Void
) async throws {
    let before = usage()
    let started = ContinuousClock.now
    benchmark.startMeasurement()
    let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
        for worker in 0..<workers {
            let share = operations / workers + (worker < operations % workers ? 1 : 0)
            group.addTask(executorPreference: executor) {
                var latencies: [Duration] = []
                latencies.reserveCapacity(share)
                let clock = ContinuousClock()
                for _ in 0..<share {
                    let start = clock.now
                    try await operation()
                    latencies.append(start.duration(to: clock.now))
                }
                return latencies
            }
        }
        return try await group.reduce(into: [Duration]()) { $0 += $1 }
    }
    benchmark.stopMeasurement()
    let wall = started.duration(to: .now)
    let after = usage()
    let sorted = latencies.sorted()
    benchmark.measurement(
        .custom("queries per second", polarity: .prefersLarger, useScalingFactor: false),
        Int(Double(operations) * 1e9 / Double(nanoseconds(wall))))
    benchmark.measurement(.custom("p50 latency (ns)", useScalingFactor: false), nanoseconds(sorted[sorted.count / 2]))
    benchmark.measurement(.custom("p99 latency (ns)", useScalingFactor: false), nanoseconds(sorted[sorted.count * 99 / 100]))
    benchmark.measurement(
        .custom("client CPU per query (ns)", useScalingFactor: false), nanoseconds((after.cpu - before.cpu) / operations))
    benchmark.measurement(
        .custom("context switches per 1000 queries", useScalingFactor: false),
        (after.contextSwitches - before.contextSwitches) * 1000 / operations)
}

/// Runs redis-benchmark against the throwaway Redis with `command` and records the requests per
/// second it reports.
func redisBenchmark(_ benchmark: Benchmark, command: [String]) throws {
    let configuration = try redisConfiguration()
    var arguments = ["-h", configuration.host, "-p", String(configuration.port), "-c", String(connections),
                     "-n", String(operationsPerSample), "--csv"]
    if let username = configuration.username { arguments += ["--user", username] }
    if let password = configuration.password { arguments += ["-a", password] }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-benchmark")
    process.arguments = arguments + command
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    benchmark.startMeasurement()
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    benchmark.stopMeasurement()
    // --csv: a header line, then "<test>","<rps>",...
    let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
    guard process.terminationStatus == 0, lines.count >= 2,
        let rps = Double(lines[1].split(separator: ",")[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
    else { throw BenchmarkSetupError.redisBenchmarkFailed(String(decoding: data, as: UTF8.self)) }
    benchmark.measurement(.custom("queries per second", polarity: .prefersLarger, useScalingFactor: false), Int(rps))
}

let benchmarks: @Sendable () -> Void = {
    func configuration(operations: Int, latencies: Bool) -> Benchmark.Configuration {
        Benchmark.Configuration(
            metrics: [.throughput, .custom("queries per second", polarity: .prefersLarger, useScalingFactor: false)]
                + (latencies
                    ? [
                        .custom("p50 latency (ns)", useScalingFactor: false), .custom("p99 latency (ns)", useScalingFactor: false),
                        .custom("client CPU per query (ns)", useScalingFactor: false),
                        .custom("context switches per 1000 queries", useScalingFactor: false),
                    ]
                    : []),
            tags: ["opsPerSample": "\(operations)"],
            warmupIterations: 1,
            maxDuration: .seconds(6),
            maxIterations: 20
        )
    }
    let peer = configuration(operations: operationsPerSample, latencies: false)
    func keel(
        _ name: String, workers: Int, connections: Int, operations: Int = operationsPerSample, onReactor: Bool = false,
        _ operation: @escaping @Sendable (Fixture) async throws -> Void
    ) {
        Benchmark(name, configuration: configuration(operations: operations, latencies: true)) { benchmark, fixture in
            for _ in benchmark.scaledIterations {
                try await sample(
                    benchmark, workers: workers, operations: operations,
                    executor: onReactor ? fixture.client.taskExecutor : nil
                ) { try await operation(fixture) }
            }
        } setup: {
            let fixture = try await Fixture(connections: connections)
            fixtures.withLock { $0[name] = fixture }
            return fixture
        } teardown: {
            await fixtures.withLock { $0.removeValue(forKey: name) }?.close()
        }
    }
    keel("get-64tasks/keel", workers: tasks, connections: connections) { fixture in
        blackHole(try await fixture.client.send(RedisCommand("GET", "bench:get")))
    }
    keel("gcra-64tasks/keel", workers: tasks, connections: connections) { fixture in
        blackHole(try await fixture.bucket.tryAcquire())
    }
    keel("get-64tasks/keel-on-reactor", workers: tasks, connections: connections, onReactor: true) { fixture in
        blackHole(try await fixture.client.send(RedisCommand("GET", "bench:get")))
    }
    keel("gcra-64tasks/keel-on-reactor", workers: tasks, connections: connections, onReactor: true) { fixture in
        blackHole(try await fixture.bucket.tryAcquire())
    }
    // Samples short enough (a few tenths of a second) for package-benchmark's samples per second.
    keel("gcra-1task/keel", workers: 1, connections: 1, operations: 2_000) { fixture in
        blackHole(try await fixture.bucket.tryAcquire())
    }
    Benchmark("get-64tasks/redis-benchmark", configuration: peer) { benchmark in
        for _ in benchmark.scaledIterations { try redisBenchmark(benchmark, command: ["GET", "bench:get"]) }
    }
    Benchmark("tiered-l2-hit/keel", configuration: configuration(operations: operationsPerSample, latencies: true)) {
        (benchmark: Benchmark, tiered: TieredFixture) in
        for _ in benchmark.scaledIterations {
            try await sample(benchmark, workers: tasks, operations: operationsPerSample, executor: nil) {
                blackHole(try await tiered.cache.value(for: tieredKeys.randomElement()!) { "fetched" })
            }
        }
    } setup: {
        let tiered = try await TieredFixture(connections: connections, capacity: 64, keys: tieredKeys)
        fixtures.withLock { $0["tiered-l2-hit"] = tiered.fixture }
        return tiered
    } teardown: {
        await fixtures.withLock { $0.removeValue(forKey: "tiered-l2-hit") }?.close()
    }
    Benchmark("tiered-l2-hit/redis-benchmark", configuration: peer) { benchmark in
        for _ in benchmark.scaledIterations { try redisBenchmark(benchmark, command: ["GET", "bench:get"]) }
    }
    let memoryHits = 100_000
    let memory = Benchmark.Configuration(
        metrics: [.throughput, .mallocCountTotal, .custom("queries per second", polarity: .prefersLarger, useScalingFactor: false)],
        tags: ["opsPerSample": "\(memoryHits)"], warmupIterations: 1, maxDuration: .seconds(4), maxIterations: 30)
    /// Runs `memoryHits` calls of `hit` and records their rate.
    func memorySample(_ benchmark: Benchmark, _ hit: (String) async throws -> String) async throws {
        let started = ContinuousClock.now
        for step in 0..<memoryHits { blackHole(try await hit(memoryKeys[step % memoryKeys.count])) }
        let wall = started.duration(to: .now)
        benchmark.measurement(
            .custom("queries per second", polarity: .prefersLarger, useScalingFactor: false),
            Int(Double(memoryHits) * 1e9 / Double(nanoseconds(wall))))
    }
    Benchmark("tiered-l1-hit/keel", configuration: memory) { (benchmark: Benchmark, tiered: TieredFixture) in
        for _ in benchmark.scaledIterations {
            try await memorySample(benchmark) { key in try await tiered.cache.value(for: key) { "fetched" } }
        }
    } setup: {
        let tiered = try await TieredFixture(connections: 4, capacity: 10_000, keys: memoryKeys)
        fixtures.withLock { $0["tiered-l1-hit"] = tiered.fixture }
        return tiered
    } teardown: {
        await fixtures.withLock { $0.removeValue(forKey: "tiered-l1-hit") }?.close()
    }
    Benchmark("tiered-l1-hit/cache", configuration: memory) { (benchmark: Benchmark, cache: Cache<String, String, ContinuousClock>) in
        for _ in benchmark.scaledIterations {
            try await memorySample(benchmark) { key in try await cache.value(for: key) { "fetched" } }
        }
    } setup: {
        let cache = try Cache<String, String, ContinuousClock>(maximumCapacity: 10_000, timeToLive: .seconds(600))
        for key in memoryKeys { cache.insert("xxx", for: key) }
        return cache
    }
    Benchmark("gcra-64tasks/redis-benchmark", configuration: peer) { benchmark, sha1 in
        for _ in benchmark.scaledIterations {
            // The same arguments RedisTokenBucket sends for cost 1: tolerance and increment in µs.
            try redisBenchmark(benchmark, command: ["EVALSHA", sha1, "1", "keel:ratelimit:{bench-peer}", "1000", "1"])
        }
    } setup: {
        let fixture = try await Fixture(connections: 1)
        let sha1 = try await fixture.client.send(RedisCommand("SCRIPT", "LOAD", RedisTokenBucket<ContinuousClock>.script.source)).string
        await fixture.close()
        guard let sha1 else { throw BenchmarkSetupError.redisBenchmarkFailed("SCRIPT LOAD gave no digest") }
        return sha1
    }
}
