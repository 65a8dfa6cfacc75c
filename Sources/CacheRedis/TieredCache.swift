public import Cache
public import CoreMetrics
public import KeelCore
public import Logging
public import Redis
public import ServiceLifecycle
import Tracing

/// A cache a fleet of processes shares: each process keeps recent values in memory (level 1, a
/// Keel `Cache`), and every process reads and writes the same values in Redis (level 2).
///
/// ```swift
/// let market = try TieredCache(
///     configuration: TieredCacheConfiguration(name: "market", maximumCapacity: 10_000, timeToLive: .seconds(60)),
///     codec: JSONTieredCacheCodec<Candles>(), client: redis)
/// // market.run() in the service group, beside the Redis client
/// let candles = try await market.value(for: "BTC:1h", tag: "BTC") { try await exchange.candles("BTC", "1h") }
/// await market.invalidate(tag: "BTC")    // every process drops its copies
/// ```
///
/// - **Reading**: memory, then Redis (one round trip: the value, and its remaining time to live
///   when stale windows are configured),
///   then the fetch. A fetched value goes to Redis with its time to live (plus the stale windows)
///   and to memory. Concurrent misses in one process run one load (the memory level's single
///   flight).
/// - **One fetch per stampede across the fleet**: a process that finds nothing in Redis takes a
///   lock in Redis (`SET … NX PX`, expiring after ``TieredCacheConfiguration/fetchLockTimeout``)
///   and fetches; the others look for the value with growing pauses (1 ms up to
///   ``TieredCacheConfiguration/pollInterval``) until it appears, the lock ends, or
///   ``TieredCacheConfiguration/fetchLockWait`` has passed, and then fetch themselves.
/// - **Invalidation across processes**: ``invalidate(key:)``, ``invalidate(tag:)`` and
///   ``invalidate(keyPrefix:)`` delete in Redis and publish on the cache's channel; every process
///   drops its copies on receipt. Copies in memory never outlive
///   ``TieredCacheConfiguration/maximumLocalAge``, and when the subscription comes back after a
///   loss the memory level is cleared: a missed invalidation leaves a copy stale for at most that
///   age.
/// - **Stale values**: Redis keeps a value for its time to live plus
///   ``TieredCacheConfiguration/serveStaleFor`` plus ``TieredCacheConfiguration/staleIfErrorFor``;
///   within the first window it is returned while one fetch refreshes it, within the second when
///   the fetch fails.
/// - **Redis unreachable**: calls use memory and the fetch alone, and Redis is tried again every
///   ``TieredCacheConfiguration/probeInterval``; the outage is logged once and counted in
///   ``statistics``, and callers never see a Redis error (invalidations then reach only this
///   process).
///
/// Keys are `keel:cache:<name>:k:<key>` (values), `…:t:<tag>` (the keys of a tag) and `…:l:<key>`
/// (fetch locks); the channel is `keel:cache:<name>:invalidations`. Values are stored with the
/// codec's version: a process whose codec has another version treats them as missing.
public final class TieredCache<Value: Sendable, CacheClock: Clock>: Sendable, Service
where CacheClock.Duration == Duration {
    private struct State {
        var statistics = TieredCacheStatistics()
        /// While Redis is unreachable: when it is tried next.
        var nextProbe: CacheClock.Instant?
        var random: SplitMix64
    }

    /// A value read from Redis and how far into its life it is.
    private enum Shared {
        case fresh(Value)
        case stale(Value)
        case lastGood(Value)
    }

    /// The configuration.
    public let configuration: TieredCacheConfiguration
    /// The memory level: its statistics are the local hits and misses.
    public let local: Cache<String, Value, CacheClock>
    private let codec: any TieredCacheCodec<Value>
    private let client: RedisClient
    private let subscriber: RedisSubscriber
    private let clock: CacheClock
    private let logger: Logger
    private let sender: String
    private let keyPrefix: String
    private let channel: String
    private let storedMilliseconds: Int64
    private let staleMilliseconds: Int64
    private let lastGoodMilliseconds: Int64
    private let pollBackoff: Backoff
    private let state: Locked<State>
    private let exporter: StatisticsExporter<TieredCacheStatistics>?

    /// A tiered cache on `client`'s Redis, its memory level on `clock`.
    ///
    /// - Parameters:
    ///   - configuration: The name, sizes and times.
    ///   - codec: How values are stored in Redis.
    ///   - client: The Redis client (running in the same service group); the invalidation
    ///     subscription opens its own connection to the same server.
    ///   - clock: The clock of the memory level, the stale windows' waits and the probes.
    ///   - logger: Where an outage of Redis and its end are logged.
    ///   - metricsFactory: Where ``publishMetrics()`` sends the statistics of both levels
    ///     (`keel_cache_…` with the `cache` dimension, `keel_tiered_cache_…`); `nil` for none.
    ///     Default `MetricsSystem.factory`.
    ///
    /// #### Errors
    /// `CacheConfigurationError` naming the first setting out of range.
    public init(
        configuration: TieredCacheConfiguration, codec: some TieredCacheCodec<Value>, client: RedisClient,
        clock: CacheClock, logger: Logger = .silent, metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        var localConfiguration = CacheConfiguration<String, Value>(
            maximumCapacity: configuration.maximumCapacity,
            timeToLive: min(configuration.timeToLive, configuration.maximumLocalAge))
        localConfiguration.maintenanceInterval = max(configuration.maximumLocalAge, .seconds(1))
        let local = try Cache(
            configuration: localConfiguration, clock: clock, name: configuration.name, metricsFactory: metricsFactory)
        exporter = metricsFactory.map {
            StatisticsExporter(
                factory: $0, dimensions: [("cache", configuration.name)], initial: TieredCacheStatistics(),
                figures: TieredCacheStatistics.metricFigures)
        }
        self.local = local
        self.codec = codec
        self.client = client
        self.clock = clock
        self.logger = logger
        var random = SplitMix64(seed: UInt64.random(in: .min ... .max))
        let hex = String(random.next(), radix: 16)
        sender = String(repeating: "0", count: TieredCacheInvalidation.senderLength - hex.count) + hex
        keyPrefix = "keel:cache:\(configuration.name):"
        channel = "keel:cache:\(configuration.name):invalidations"
        let milliseconds = { (duration: Duration) in duration.inNanoseconds / 1_000_000 }
        lastGoodMilliseconds = milliseconds(configuration.staleIfErrorFor)
        staleMilliseconds = lastGoodMilliseconds + milliseconds(configuration.serveStaleFor)
        storedMilliseconds = max(1, staleMilliseconds + milliseconds(configuration.timeToLive))
        pollBackoff = Backoff(initialDelay: .milliseconds(1), maximumDelay: configuration.pollInterval, jitter: .equal)
        let state = Locked(State(random: random))
        self.state = state
        subscriber = try RedisSubscriber(
            configuration: client.pool.source.configuration, channels: ["keel:cache:\(configuration.name):invalidations"],
            whenSubscribed: {
                // What was published while the subscription was down never arrives.
                local.removeAll()
                state.withLock { $0.statistics.localClears += 1 }
            })
    }

    /// What this process did so far.
    public var statistics: TieredCacheStatistics {
        state.withLock { $0.statistics }
    }

    /// Sends the statistics of both levels to the `metricsFactory` given at creation: the memory
    /// level's as `Cache.publishMetrics()` does, and ``statistics`` as `keel_tiered_cache_…`
    /// counters. Call it periodically or before a scrape; lookups never touch metrics.
    public func publishMetrics() {
        local.publishMetrics()
        exporter?.publish(statistics)
    }

    /// Whether the invalidation subscription is up.
    public var isSubscribed: Bool { subscriber.isSubscribed }

    /// Runs the memory level's maintenance and the invalidation subscription (reconnecting when
    /// it drops) until cancellation or graceful shutdown; then returns.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                do { try await self.local.run() } catch is CancellationError {}
            }
            group.addTask { await self.subscriber.run() }
            for await message in subscriber.messages { apply(message) }
            group.cancelAll()
        }
    }

    // MARK: Reading

    /// The value of `key` from memory, Redis, or `fetch` (one fetch for the fleet's concurrent
    /// misses); tagged with `tag` for ``invalidate(tag:)``.
    ///
    /// Each call is a `cache.load` span whose `keel.cache.result` attribute says which level
    /// answered: `hit` (memory), `shared_hit` (a fresh value in Redis), or as the memory level's
    /// load answered: `miss` (fetched, or a value another process stored meanwhile), `stale`, or
    /// `stale_if_error`.
    ///
    /// #### Errors
    /// The fetch's error when there is no value to fall back on; `CancellationError` when the
    /// calling task is cancelled while it waits (the load goes on for the others). Never a Redis
    /// error.
    public func value(
        for key: String, tag: String? = nil, orFetch fetch: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await withSpanIfTracing("cache.load") { span in
            let (value, result) = try await lookUp(key, tag: tag, orFetch: fetch)
            if span.isRecording {
                span.attributes["keel.cache.name"] = configuration.name
                span.attributes["keel.cache.result"] = result.rawValue
            }
            return value
        }
    }

    /// The value of `key` and the level that answered (see ``value(for:tag:orFetch:)``).
    private func lookUp(
        _ key: String, tag: String?, orFetch fetch: @escaping @Sendable () async throws -> Value
    ) async throws -> (value: Value, result: CacheLoadResult) {
        // Memory (counting the hit or the miss), then a fresh value in Redis read by this task
        // itself; only what is neither goes through the memory level's single flight.
        if let value = local.value(for: key) { return (value, .hit) }
        if let value = try await freshSharedValue(for: key, tag: tag) { return (value, .sharedHit) }
        return try await local.lookUp(key, tag: tag, counting: false) { [self] in try await load(key, tag: tag, fetch: fetch) }
    }

    /// The fresh value of `key` in Redis, kept in memory too; `nil` when there is none (or it is
    /// stale, or Redis is not asked now). What it does not find is counted by the load that
    /// follows.
    ///
    /// #### Errors
    /// `CancellationError` when the calling task is cancelled.
    private func freshSharedValue(for key: String, tag: String?) async throws -> Value? {
        guard useRedis() else { return nil }
        do {
            guard case .fresh(let value)? = try await read(key, countingUndecodable: false) else { return nil }
            answered()
            count { $0.sharedHits += 1 }
            local.insert(value, for: key, tag: tag)
            return value
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            failed(error)
            return nil
        }
    }

    /// Stores `value` for `key` in Redis and in memory, as a fetch would.
    public func insert(_ value: Value, for key: String, tag: String? = nil) async {
        local.insert(value, for: key, tag: tag)
        await store(value, for: key, tag: tag)
    }

    /// Level 2 and the fetch, for a miss of the memory level (one at a time per key in this process).
    private func load(_ key: String, tag: String?, fetch: @escaping @Sendable () async throws -> Value) async throws -> Value {
        guard useRedis() else { return try await fetchWithoutRedis(fetch) }
        let shared: Shared?
        do {
            shared = try await read(key)
            answered()
        } catch {
            failed(error)
            return try await fetchWithoutRedis(fetch)
        }
        switch shared {
        case .fresh(let value):
            count { $0.sharedHits += 1 }
            return value
        case .stale(let value):
            count { $0.sharedStaleServed += 1 }
            Task { _ = try? await self.fetchForFleet(key, tag: tag, lastGood: nil, fetch: fetch) }
            return value
        case .lastGood(let value):
            return try await fetchForFleet(key, tag: tag, lastGood: value, fetch: fetch)
        case nil:
            count { $0.sharedMisses += 1 }
            return try await fetchForFleet(key, tag: tag, lastGood: nil, fetch: fetch)
        }
    }

    /// Fetches under the fleet's lock for `key`, or waits for the process that holds it.
    private func fetchForFleet(
        _ key: String, tag: String?, lastGood: Value?, fetch: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let lock = keyPrefix + "l:" + key
        let token = state.withLock { String($0.random.next(), radix: 16) }
        let deadline = clock.now.advanced(by: configuration.fetchLockWait)
        var polls = 0
        while true {
            let acquired: Bool
            do {
                acquired = try await client.send(
                    RedisCommand("SET", lock, token, "NX", "PX", String(configuration.fetchLockTimeout.inNanoseconds / 1_000_000)))
                    == .simpleString("OK")
            } catch {
                failed(error)
                return try await fetchWithoutRedis(fetch, lastGood: lastGood)
            }
            if acquired {
                // The lock's previous holder may have stored the value since this process looked
                // (while it waited, or between its miss and the lock): one more read saves a fetch.
                let value: Value
                if case .fresh(let stored)? = try? await read(key, countingUndecodable: false) {
                    count { $0.sharedHits += 1 }
                    value = stored
                } else {
                    do {
                        value = try await fetchCounted(fetch, lastGood: lastGood)
                    } catch {
                        await release(lock, token: token)
                        throw error
                    }
                    await store(value, for: key, tag: tag)
                }
                await release(lock, token: token)
                return value
            }
            if polls == 0 { count { $0.fetchLockWaits += 1 } }
            polls += 1
            let pause = state.withLock { pollBackoff.delay(afterFailure: polls, random: $0.random.nextUnit()) }
            try await clock.sleep(for: pause, tolerance: nil)
            do {
                if case .fresh(let value)? = try await read(key) {
                    count { $0.sharedHits += 1 }
                    return value
                }
            } catch {
                failed(error)
                return try await fetchWithoutRedis(fetch, lastGood: lastGood)
            }
            if clock.now >= deadline {
                count { $0.fetchLockTimeouts += 1 }
                let value = try await fetchCounted(fetch, lastGood: lastGood)
                await store(value, for: key, tag: tag)
                return value
            }
        }
    }

    /// Deletes the fetch lock `lock` if it is still the one taken with `token`.
    private func release(_ lock: String, token: String) async {
        do {
            _ = try await client.evaluate(releaseScript, keys: [lock], arguments: [token])
        } catch {
            failed(error)
        }
    }

    /// The value of `key` in Redis and where it is in its life; `nil` when there is none this
    /// codec can read (counted in ``TieredCacheStatistics/undecodable`` unless told otherwise: a
    /// second look within one lookup counts nothing).
    private func read(_ key: String, countingUndecodable: Bool = true) async throws -> Shared? {
        let name = keyPrefix + "k:" + key
        // Without stale windows a value in Redis is fresh until it expires: its time to live is
        // not asked for.
        let replies =
            staleMilliseconds == 0
            ? [.success(try await client.send(RedisCommand("GET", name)))]
            : try await client.pipeline([RedisCommand("GET", name), RedisCommand("PTTL", name)])
        let stored = try replies[0].get()
        guard let bytes = stored.bytes else { return nil }
        guard bytes.count >= 2, bytes[0] == Self.marker, bytes[1] == codec.version,
            let value = try? codec.decode(Array(bytes[2...]))
        else {
            if countingUndecodable { count { $0.undecodable += 1 } }
            return nil
        }
        guard replies.count == 2 else { return .fresh(value) }
        let remaining = try replies[1].get().integer ?? -1
        if remaining < 0 || remaining > staleMilliseconds { return .fresh(value) }
        if remaining > lastGoodMilliseconds { return .stale(value) }
        return .lastGood(value)
    }

    /// Writes `value` to Redis for its time to live and the stale windows, in `tag`'s set.
    private func store(_ value: Value, for key: String, tag: String?) async {
        guard useRedis() else { return }
        guard let payload = try? codec.encode(value) else {
            count { $0.undecodable += 1 }
            return
        }
        let name = keyPrefix + "k:" + key
        let milliseconds = String(storedMilliseconds)
        var commands = [RedisCommand(arguments: [Array("SET".utf8), Array(name.utf8), [Self.marker, codec.version] + payload, Array("PX".utf8), Array(milliseconds.utf8)])]
        if let tag {
            let set = keyPrefix + "t:" + tag
            // A new set has no expiry for GT to compare with: NX gives it one, GT extends it.
            commands += [
                RedisCommand("SADD", set, name), RedisCommand("PEXPIRE", set, milliseconds, "NX"),
                RedisCommand("PEXPIRE", set, milliseconds, "GT"),
            ]
        }
        do {
            let replies = try await client.pipeline(commands)
            for reply in replies { _ = try reply.get() }
            answered()
        } catch {
            failed(error)
        }
    }

    private func fetchCounted(_ fetch: @Sendable () async throws -> Value, lastGood: Value?) async throws -> Value {
        count { $0.fetches += 1 }
        do {
            return try await fetch()
        } catch {
            guard let lastGood else { throw error }
            count { $0.sharedLastGoodServed += 1 }
            return lastGood
        }
    }

    private func fetchWithoutRedis(_ fetch: @Sendable () async throws -> Value, lastGood: Value? = nil) async throws -> Value {
        count { $0.decidedWithoutRedis += 1 }
        return try await fetchCounted(fetch, lastGood: lastGood)
    }

    // MARK: Invalidating

    /// Drops `key` in Redis and in every process's memory.
    public func invalidate(key: String) async {
        _ = local.removeValue(for: key)
        await publish(.key(key), after: [RedisCommand("UNLINK", keyPrefix + "k:" + key)])
    }

    /// Drops every value stored with `tag` (by ``value(for:tag:orFetch:)`` or
    /// ``insert(_:for:tag:)``), in Redis and in every process's memory.
    public func invalidate(tag: String) async {
        local.invalidate(tag: tag)
        let set = keyPrefix + "t:" + tag
        guard useRedis() else { return }
        do {
            let members = try await client.send(RedisCommand("SMEMBERS", set)).array?.compactMap(\.string) ?? []
            var commands = stride(from: 0, to: members.count, by: Self.keysPerCommand).map { start in
                RedisCommand("UNLINK", Array(members[start..<min(start + Self.keysPerCommand, members.count)]))
            }
            commands.append(RedisCommand("UNLINK", set))
            await publish(.tag(tag), after: commands)
        } catch {
            failed(error)
        }
    }

    /// Drops every key that starts with `prefix`, in Redis (found with `SCAN`) and in every
    /// process's memory.
    public func invalidate(keyPrefix prefix: String) async {
        local.invalidate(keyPrefix: prefix)
        guard useRedis() else { return }
        let pattern = Self.escapedForMatch(keyPrefix + "k:" + prefix) + "*"
        do {
            var cursor = "0"
            repeat {
                let reply = try await client.send(RedisCommand("SCAN", cursor, "MATCH", pattern, "COUNT", "1000"))
                guard let parts = reply.array, parts.count == 2, let next = parts[0].string else {
                    throw RedisError(code: .protocolViolation, message: "SCAN answered \(reply)")
                }
                cursor = next
                let keys = parts[1].array?.compactMap(\.string) ?? []
                if !keys.isEmpty { _ = try await client.send(RedisCommand("UNLINK", keys)) }
            } while cursor != "0"
            await publish(.keyPrefix(prefix), after: [])
        } catch {
            failed(error)
        }
    }

    /// Sends `commands`, then publishes `target` to the other processes, in one round trip.
    private func publish(_ target: TieredCacheInvalidation.Target, after commands: [RedisCommand]) async {
        guard useRedis() else { return }
        let message = TieredCacheInvalidation(sender: sender, target: target)
        let publish = RedisCommand(arguments: [Array("PUBLISH".utf8), Array(channel.utf8), message.payload])
        do {
            let replies = try await client.pipeline(commands + [publish])
            for reply in replies { _ = try reply.get() }
            answered()
            count { $0.invalidationsPublished += 1 }
        } catch {
            failed(error)
        }
    }

    /// Applies another process's invalidation to memory.
    private func apply(_ message: RedisMessage) {
        guard let invalidation = TieredCacheInvalidation(payload: message.payload), invalidation.sender != sender else { return }
        switch invalidation.target {
        case .key(let key): _ = local.removeValue(for: key)
        case .tag(let tag): local.invalidate(tag: tag)
        case .keyPrefix(let prefix): local.invalidate(keyPrefix: prefix)
        }
        count { $0.invalidationsReceived += 1 }
    }

    // MARK: Redis's health

    /// Whether to ask Redis now: always while it answers; while it does not, once per probe interval.
    private func useRedis() -> Bool {
        let now = clock.now
        return state.withLock { state in
            guard let nextProbe = state.nextProbe else { return true }
            guard now >= nextProbe else { return false }
            state.nextProbe = now.advanced(by: configuration.probeInterval)
            return true
        }
    }

    private func answered() {
        let recovered = state.withLock { state in
            defer { state.nextProbe = nil }
            return state.nextProbe != nil
        }
        if recovered { logger.notice("Redis answers again; the tiered cache uses it", metadata: ["cache": "\(configuration.name)"]) }
    }

    private func failed(_ error: any Error) {
        let now = clock.now
        let started = state.withLock { state in
            state.statistics.redisFailures += 1
            defer { state.nextProbe = now.advanced(by: configuration.probeInterval) }
            guard state.nextProbe == nil else { return false }
            state.statistics.outages += 1
            return true
        }
        if started {
            logger.warning(
                "Redis is unreachable; the tiered cache uses memory and the fetch alone until it answers",
                metadata: ["cache": "\(configuration.name)", "error": "\(error)"])
        }
    }

    private func count(_ change: (inout TieredCacheStatistics) -> Void) {
        state.withLock { change(&$0.statistics) }
    }

    /// The first byte of every stored value (then the codec's version, then the codec's bytes).
    private static var marker: UInt8 { UInt8(ascii: "K") }
    private static var keysPerCommand: Int { 500 }

    /// `text` with the glob characters of `SCAN … MATCH` escaped, so a prefix matches only itself.
    static func escapedForMatch(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\^".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}

extension TieredCache where CacheClock == ContinuousClock {
    /// A tiered cache on the continuous clock; see
    /// ``init(configuration:codec:client:clock:logger:metricsFactory:)``.
    ///
    /// #### Errors
    /// `CacheConfigurationError` naming the first setting out of range.
    public convenience init(
        configuration: TieredCacheConfiguration, codec: some TieredCacheCodec<Value>, client: RedisClient,
        logger: Logger = .silent, metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    ) throws {
        try self.init(
            configuration: configuration, codec: codec, client: client, clock: ContinuousClock(), logger: logger,
            metricsFactory: metricsFactory)
    }
}

/// Deletes a fetch lock only while it is still the caller's (its token), so a lock that expired and
/// was taken by another process is left alone.
private let releaseScript = RedisScript(
    """
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
    return 0
    """)
