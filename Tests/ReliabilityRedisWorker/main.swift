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

import Foundation
import Pooling
import Redis
import RedisRateLimit

let arguments = CommandLine.arguments
func usage() -> Never {
    FileHandle.standardError.write(Data("""
        usage: ReliabilityRedisWorker bucket NAME TASKS SECONDS RATE BURST
               ReliabilityRedisWorker holders NAME TASKS SECONDS MAX
               ReliabilityRedisWorker hold NAME LEASE-MS

        """.utf8))
    exit(2)
}
guard arguments.count >= 4, let url = ProcessInfo.processInfo.environment["REDIS_URL"] else { usage() }
let name = arguments[2]
let prefix = "keel-reliability:{\(name)}:"

var pool = PoolConfiguration()
pool.maxConnections = 16
let redis = try RedisClient(configuration: RedisConfiguration(url: url), pool: pool)
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
default:
    usage()
}
await redis.shutdown()
_ = try? await running.value
