// One process of the fleet-limit reliability scenarios (RELIABILITY.md, 9–11), on the Redis at
// REDIS_URL. Modes:
//
//   bucket NAME TASKS SECONDS RATE BURST
//       TASKS tasks take permits of RedisTokenBucket(NAME, RATE per second, BURST) for SECONDS
//       seconds; each admission is counted apart from the limiter, in `keel-reliability:{NAME}:…`
//       (a count, the Redis time of the fleet's first request and of the last admission counted).
//       Prints `admitted=N`.
//   holders NAME TASKS SECONDS MAX
//       TASKS tasks run calls through RedisConcurrencyLimit(NAME, MAX) for SECONDS seconds; each
//       holder counts itself in Redis while it holds (`keel-reliability:{NAME}:holding`, the
//       highest count in `…:most`). Prints `runs=N`.
//   hold NAME LEASE-MS
//       Takes one permit of RedisConcurrencyLimit(NAME, 1) with that lease, stores its process id
//       in `keel-reliability:{NAME}:pid`, prints `holding`, and holds the permit until killed.
//
// And for the tiered-cache scenarios (13–15):
//
//   listen NAME COUNT
//       Runs TieredCache(NAME); once subscribed sets `keel-reliability:{NAME}:ready`, then notes
//       the CLOCK_MONOTONIC time (ns) at which each of COUNT invalidations from other processes
//       was applied (polled every 50 µs). Prints `received=N times=T1,T2,…`.
//   stampede NAME TASKS START-NS
//       At CLOCK_MONOTONIC START-NS, TASKS tasks ask TieredCache(NAME) for one cold key whose fetch
//       counts itself in `keel-reliability:{NAME}:fetches` and takes 100 ms. Prints
//       `fetches=N values=N value=V`.
//   churn NAME SECONDS
//       For SECONDS seconds, 16 tasks read 20 keys of TieredCache(NAME) (time to live 1 s, copies
//       in memory at most 300 ms old; a fetch returns the wall-clock time in ms) and invalidate one
//       key in ten reads. Prints `reads=N errors=N max-age-ms=N outages=N clears=N subscribed=0|1`.

import CacheRedis
import Foundation
import Pooling
import Redis
import RedisRateLimit
import Synchronization

let arguments = CommandLine.arguments
func usage() -> Never {
    FileHandle.standardError.write(Data("""
        usage: ReliabilityRedisWorker bucket NAME TASKS SECONDS RATE BURST
               ReliabilityRedisWorker holders NAME TASKS SECONDS MAX
               ReliabilityRedisWorker hold NAME LEASE-MS
               ReliabilityRedisWorker listen NAME COUNT
               ReliabilityRedisWorker stampede NAME TASKS START-NS
               ReliabilityRedisWorker churn NAME SECONDS

        """.utf8))
    exit(2)
}
guard arguments.count >= 3, let url = ProcessInfo.processInfo.environment["REDIS_URL"] else { usage() }
let name = arguments[2]
let prefix = "keel-reliability:{\(name)}:"

var pool = PoolConfiguration()
pool.maxConnections = 16
var configuration = try RedisConfiguration(url: url)
if arguments[1] == "churn" {
    // Redis is killed mid-run: calls give up on it quickly, and reconnect quickly.
    configuration.commandTimeout = .milliseconds(300)
    configuration.connectTimeout = .milliseconds(300)
    pool.acquireTimeout = .milliseconds(300)
    pool.connectRetryDelay = .milliseconds(10)
    pool.maxConnectRetryDelay = .milliseconds(100)
}
let redis = try RedisClient(configuration: configuration, pool: pool)
let running = Task { try await redis.run() }

/// Counts an admission and keeps the Redis time of the last.
let countAdmission = RedisScript(
    """
    local time = redis.call('TIME')
    redis.call('INCR', KEYS[1])
    redis.call('SET', KEYS[2], time[1] .. string.format('%06d', tonumber(time[2])))
    return 1
    """)
/// Keeps the Redis time of the fleet's first request, before any admission.
let markFirstRequest = RedisScript(
    """
    local time = redis.call('TIME')
    redis.call('SET', KEYS[1], time[1] .. string.format('%06d', tonumber(time[2])), 'NX')
    return 1
    """)
/// Counts a holder in, keeping the highest count seen.
let enter = RedisScript(
    """
    local n = redis.call('INCR', KEYS[1])
    if n > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], n) end
    return n
    """)

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process of the machine.
@Sendable nonisolated func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// The wall clock in milliseconds: the churn scenario's values carry it, so every process reads
/// their age.
@Sendable nonisolated func wallMilliseconds() -> Int { Int(Date().timeIntervalSince1970 * 1000) }

/// What the churn mode's tasks counted: reads, errors, and the age of the oldest value read (ms).
final class ChurnCounts: Sendable {
    let reads = Atomic(0)
    let errors = Atomic(0)
    let maximumAge = Atomic(0)
}

/// Runs `body` with a running TieredCache of strings named `name` whose subscription is up.
nonisolated func withTieredCache<Result: Sendable>(
    _ name: String, settings: TieredCacheConfiguration? = nil,
    _ body: @Sendable (TieredCache<String, ContinuousClock>) async throws -> Result
) async throws -> Result {
    let cache = try TieredCache(
        configuration: settings ?? TieredCacheConfiguration(name: name, maximumCapacity: 1_000, timeToLive: .seconds(60)),
        codec: JSONTieredCacheCodec<String>(), client: redis)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await cache.run() }
        defer { group.cancelAll() }
        while !cache.isSubscribed { try await Task.sleep(for: .milliseconds(1)) }
        return try await body(cache)
    }
}

/// Takes `bucket`'s permits from `tasks` tasks until `deadline`, counting each admission in Redis.
nonisolated func takePermits(
    of bucket: RedisTokenBucket<ContinuousClock>, tasks: Int, until deadline: ContinuousClock.Instant, redis: RedisClient,
    prefix: String
) async throws -> Int {
    try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<tasks {
            group.addTask {
                var admitted = 0
                while ContinuousClock.now < deadline {
                    if let wait = try await bucket.tryAcquire() {
                        try await Task.sleep(for: min(wait, deadline - ContinuousClock.now))
                        continue
                    }
                    try await redis.evaluate(countAdmission, keys: [prefix + "admitted", prefix + "last"])
                    admitted += 1
                }
                return admitted
            }
        }
        return try await group.reduce(0, +)
    }
}

/// Runs calls through `limit` from `tasks` tasks until `deadline`, each holder counting itself in.
nonisolated func hold(
    _ limit: RedisConcurrencyLimit<ContinuousClock>, tasks: Int, until deadline: ContinuousClock.Instant,
    redis: RedisClient, prefix: String
) async throws -> Int {
    try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<tasks {
            group.addTask {
                var runs = 0
                while ContinuousClock.now < deadline {
                    try await limit.withPermit {
                        try await redis.evaluate(enter, keys: [prefix + "holding", prefix + "most"])
                        try await redis.send(RedisCommand("GET", prefix + "most"))
                        try await redis.send(RedisCommand("DECR", prefix + "holding"))
                    }
                    runs += 1
                }
                return runs
            }
        }
        return try await group.reduce(0, +)
    }
}

switch arguments[1] {
case "bucket":
    guard arguments.count == 7, let tasks = Int(arguments[3]), let seconds = Int(arguments[4]), let rate = Int(arguments[5]),
        let burst = Int(arguments[6])
    else { usage() }
    let bucket = try RedisTokenBucket(name: name, rate: rate, per: .seconds(1), burst: burst, client: redis)
    let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
    try await redis.evaluate(markFirstRequest, keys: [prefix + "first"])
    let admitted = try await takePermits(of: bucket, tasks: tasks, until: deadline, redis: redis, prefix: prefix)
    print("admitted=\(admitted)")
case "holders":
    guard arguments.count == 6, let tasks = Int(arguments[3]), let seconds = Int(arguments[4]), let most = Int(arguments[5])
    else { usage() }
    let limit = try RedisConcurrencyLimit(name: name, maxHolders: most, client: redis, pollInterval: .milliseconds(10))
    let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
    let runs = try await hold(limit, tasks: tasks, until: deadline, redis: redis, prefix: prefix)
    print("runs=\(runs)")
case "hold":
    guard arguments.count == 4, let lease = Int(arguments[3]) else { usage() }
    let limit = try RedisConcurrencyLimit(name: name, maxHolders: 1, client: redis, lease: .milliseconds(lease))
    try await limit.withPermit {
        try await redis.send(RedisCommand("SET", prefix + "pid", String(getpid())))
        FileHandle.standardOutput.write(Data("holding\n".utf8))
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
case "listen":
    guard arguments.count == 4, let count = Int(arguments[3]) else { usage() }
    let times = try await withTieredCache(name) { cache in
        try await redis.send(RedisCommand("SET", prefix + "ready", "1"))
        var times: [UInt64] = []
        var seen = 0
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while times.count < count, ContinuousClock.now < deadline {
            let received = cache.statistics.invalidationsReceived
            if received > seen {
                let now = monotonicNanoseconds()
                times += Array(repeating: now, count: received - seen)
                seen = received
            }
            try await Task.sleep(for: .microseconds(50))
        }
        return times
    }
    print("received=\(times.count) times=\(times.map(String.init).joined(separator: ","))")
case "stampede":
    guard arguments.count == 5, let tasks = Int(arguments[3]), let start = UInt64(arguments[4]) else { usage() }
    let (values, fetches) = try await withTieredCache(name) { cache in
        let now = monotonicNanoseconds()
        if start > now { try await Task.sleep(for: .nanoseconds(Int64(start - now))) }
        let values = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    try await cache.value(for: "cold") {
                        try await redis.send(RedisCommand("INCR", prefix + "fetches"))
                        try await Task.sleep(for: .milliseconds(100))
                        return "fetched-by-\(getpid())"
                    }
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        return (values, cache.statistics.fetches)
    }
    print("fetches=\(fetches) values=\(values.count) value=\(Set(values).sorted().joined(separator: "|"))")
case "churn":
    guard arguments.count == 4, let seconds = Int(arguments[3]) else { usage() }
    var settings = TieredCacheConfiguration(name: name, maximumCapacity: 100, timeToLive: .seconds(1))
    settings.maximumLocalAge = .milliseconds(300)
    settings.probeInterval = .milliseconds(200)
    let report = try await withTieredCache(name, settings: settings) { cache in
        let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
        let counts = ChurnCounts()
        await withDiscardingTaskGroup { group in
            for _ in 0..<16 {
                group.addTask {
                    var step = 0
                    while ContinuousClock.now < deadline {
                        step += 1
                        let key = "k\(Int.random(in: 0..<20))"
                        do {
                            let stamp = try await cache.value(for: key) { String(wallMilliseconds()) }
                            counts.reads.add(1, ordering: .relaxed)
                            counts.maximumAge.max(wallMilliseconds() - (Int(stamp) ?? 0), ordering: .relaxed)
                        } catch {
                            counts.errors.add(1, ordering: .relaxed)
                        }
                        if step % 10 == 0 { await cache.invalidate(key: key) }
                        try? await Task.sleep(for: .milliseconds(1))
                    }
                }
            }
        }
        let statistics = cache.statistics
        return "reads=\(counts.reads.load(ordering: .relaxed)) errors=\(counts.errors.load(ordering: .relaxed)) "
            + "max-age-ms=\(counts.maximumAge.load(ordering: .relaxed)) outages=\(statistics.outages) "
            + "clears=\(statistics.localClears) subscribed=\(cache.isSubscribed ? 1 : 0)"
    }
    print(report)
default:
    usage()
}
await redis.shutdown()
_ = try? await running.value
