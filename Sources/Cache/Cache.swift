public import CoreMetrics
public import ServiceLifecycle
public import KeelCore
import Tracing

/// A concurrent in-memory cache with a capacity, time to live, single-flight loading and stale
/// serving: the cache a server reaches for in front of a slow API or query.
///
/// ```swift
/// let prices = Cache<String, Double>(maximumCapacity: 10_000, timeToLive: .seconds(60))
/// let btc = try await prices.value(for: "bitcoin") { try await coinGecko.price("bitcoin") }
/// ```
///
/// - Capacity: at most ``CacheConfiguration/maximumCapacity`` entries (or total weight), evicted by
///   W-TinyLFU: a frequency sketch admits a newcomer only when it is more popular than the entry it
///   would push out, so a one-time scan does not flush the hot set as it would from an LRU. Its
///   admission window adapts to the load: it grows where what was read recently is read next.
/// - Freshness: fresh for the time to live (per entry if given, optionally jittered), then
///   served stale while one background fetch refreshes it (``CacheConfiguration/serveStaleFor``),
///   then kept as a fallback when fetches fail (``CacheConfiguration/staleIfErrorFor``), then gone.
///   An optional time to idle expires entries nobody reads. ``value(for:)`` returns fresh values only.
/// - Loading: concurrent ``value(for:tag:orFetch:)`` misses on one key run one fetch; the others wait
///   for it. The fetch runs in a task of its own: a cancelled caller stops waiting, the others
///   still get the value, and it is cached. Errors are not cached unless
///   ``CacheConfiguration/failureTimeToLive`` says so.
/// - Invalidation: by key, by predicate, all, or in O(shards) without a scan, by tag
///   (``invalidate(tag:)``), key prefix (``invalidate(keyPrefix:)``) or key predicate
///   (``invalidate(keysWhere:)``): a generation counter per shard, each older entry checked once.
/// - Concurrency: keys are spread over shards, each locked by stripes: a read takes only its
///   thread's stripe and writes nothing the other cores read, so cores reading the same keys
///   scale; a hit allocates nothing (see `CacheSegment`).
///
/// Time comes from the injected clock. Expired entries are removed when met and by ``run()`` (a
/// swift-service-lifecycle `Service`), so memory is reclaimed without traffic.
public final class Cache<Key: Hashable & Sendable, Value: Sendable, CacheClock: Clock>: Sendable, Service
where CacheClock.Duration == Duration {
    /// The configuration.
    public let configuration: CacheConfiguration<Key, Value>
    @usableFromInline let clock: CacheClock
    @usableFromInline let origin: CacheClock.Instant
    @usableFromInline let segments: [CacheSegment<Key, Value>]
    /// When the clock is the system's `ContinuousClock`, the kernel's coarse clock read directly (in
    /// nanoseconds at `origin`; see `CacheTime.systemNow()`).
    @usableFromInline let systemClockOrigin: Int64?
    /// The configuration's time to live in nanoseconds, converted once.
    @usableFromInline let defaultTimeToLive: Int64
    @usableFromInline let shardMask: Int
    /// The seed of this cache's key hashes (see `CacheKeyHashing`), drawn at random.
    @usableFromInline let keySeed = UInt64.random(in: .min ... .max)
    private let loads = Locked<[Key: CacheLoad<Value>]>([:])
    private let loadStatistics = Locked(CacheStatistics())
    private let exporter: StatisticsExporter<CacheStatistics>?
    /// The cache's name: the `cache` dimension of its metrics and the `keel.cache.name` of its spans.
    public let name: String

    /// A cache on `clock`.
    ///
    /// `metricsFactory` (default `MetricsSystem.factory`; `nil` for none) receives the statistics
    /// when ``publishMetrics()`` runs (dimension `cache`: `name`).
    ///
    /// #### Errors
    /// ``CacheConfigurationError`` naming the first setting out of range.
    public init(
        configuration: CacheConfiguration<Key, Value>, clock: CacheClock, name: String = "default",
        metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    ) throws(CacheConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.clock = clock
        self.name = name
        origin = clock.now
        var count = configuration.shardCount ?? min(16, max(1, configuration.maximumCapacity / 256))
        var power = 1
        while power * 2 <= count { power *= 2 }
        count = power
        shardMask = count - 1
        // Capacities add up to the maximum exactly, so the whole never exceeds it.
        segments = (0..<count).map { shard in
            let capacity = configuration.maximumCapacity / count + (shard < configuration.maximumCapacity % count ? 1 : 0)
            let shard = CacheShard<Key, Value>(
                capacity: max(1, capacity), timeToIdle: configuration.timeToIdle, staleFor: configuration.serveStaleFor,
                graceFor: configuration.staleIfErrorFor)
            return CacheSegment(shard, capacity: max(1, capacity))
        }
        systemClockOrigin = clock is ContinuousClock ? CacheTime.systemNow() : nil
        defaultTimeToLive = configuration.timeToLive.inNanoseconds
        exporter = metricsFactory.map {
            StatisticsExporter(
                factory: $0, dimensions: [("cache", name)], initial: CacheStatistics(), figures: CacheStatistics.metricFigures)
        }
    }

    deinit {
        // Freeing the segments' memory: there is nothing to await or to fail.
        for segment in segments { segment.deallocate() }
    }

    /// Now, in nanoseconds since the cache was created.
    @inlinable @inline(__always)
    func ticks() -> Int64 {
        if let systemClockOrigin, let now = CacheTime.systemNow() { return now - systemClockOrigin }
        return clockTicks()
    }

    /// Now by the injected clock, in nanoseconds since the cache was created. Apart from
    /// ``ticks()``, whose path on the system clock so never works with the clock's instants
    /// (their size is known only at run time: reading the system clock paid for their metadata
    /// and a dynamic stack allocation on every hit).
    @usableFromInline @inline(never)
    func clockTicks() -> Int64 {
        origin.duration(to: clock.now).inNanoseconds
    }

    /// The segment (a shard, its policy and their locks) that holds keys of `hash`.
    @inlinable
    func segment(for hash: Int) -> CacheSegment<Key, Value> {
        segments[segmentIndex(for: hash)]
    }

    /// Which segment holds keys of `hash`.
    @inlinable
    func segmentIndex(for hash: Int) -> Int {
        (hash ^ (hash >> 16)) & shardMask
    }

    // MARK: Reading

    /// The fresh value of `key`, or `nil`.
    @inlinable
    public func value(for key: Key) -> Value? {
        let hash = CacheKeyHashing.hash(key, seed: keySeed)
        let now = ticks()
        let segment = self.segment(for: hash)
        switch segment.peek(key, hash: hash, at: now, countingMisses: true) {
        case .fresh(let value, _): return value
        case .missing: return nil
        case .undecided: break
        }
        let found = segment.withExclusiveAccess { $0.lookup(key, hash: hash, at: now, policy: &$1) }
        if case .fresh(let value) = found { return value }
        return nil
    }

    /// The value of `key`: fresh from the cache, or stale while a refresh runs, or fetched (one fetch
    /// for all concurrent callers), or the last good value when the fetch fails within the
    /// stale-if-error window. A fetched value is tagged with `tag` for ``invalidate(tag:)``.
    ///
    /// #### Errors
    /// The fetch's error (or a remembered one, with ``CacheConfiguration/failureTimeToLive``);
    /// `CancellationError` when the calling task is cancelled while it waits (the fetch goes on for
    /// the others).
    ///
    /// Each call is a `cache.load` span whose `keel.cache.result` attribute says how it was answered:
    /// `hit`, `stale` (a refresh started or running), `miss` (fetched), or `stale_if_error`.
    public func value(
        for key: Key, tag: String? = nil, orFetch fetch: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await withSpanIfTracing("cache.load") { span in
            let (value, result) = try await lookUp(key, tag: tag, counting: true, orFetch: fetch)
            if span.isRecording {
                span.attributes["keel.cache.name"] = name
                span.attributes["keel.cache.result"] = result.rawValue
            }
            return value
        }
    }

    /// The value of `key` and how it was found, as ``value(for:tag:orFetch:)`` finds it but with no
    /// span of its own; a caller that has counted this lookup already (with ``value(for:)``)
    /// passes `counting: false`, and the lookup then counts no hit or miss.
    package func lookUp(
        _ key: Key, tag: String?, counting: Bool, orFetch fetch: @escaping @Sendable () async throws -> Value
    ) async throws -> (value: Value, result: CacheLoadResult) {
        let hash = CacheKeyHashing.hash(key, seed: keySeed)
        let now = ticks()
        let segment = self.segment(for: hash)
        if counting, case .fresh(let value, _) = segment.peek(key, hash: hash, at: now, countingMisses: false) {
            return (value, .hit)
        }
        let (found, failure) = segment.withExclusiveAccess { shard, policy in
            let found = shard.lookup(key, hash: hash, at: now, policy: &policy, counting: counting)
            if case .fresh = found { return (found, nil as (any Error)?) }
            return (found, shard.failure(for: key, at: now))
        }
        var lastGood: Value?
        switch found {
        case .fresh(let value):
            return (value, .hit)
        case .stale(let value):
            _ = load(key, hash: hash, tag: tag, fetch: fetch)
            segment.withExclusiveAccess { shard, _ in shard.statistics.staleServed += 1 }
            return (value, .stale)
        case .lastGood(let value):
            lastGood = value
        case .missing:
            break
        }
        if let failure { throw failure }
        let load = load(key, hash: hash, tag: tag, fetch: fetch)
        do {
            return (try await load.value(), .miss)
        } catch {
            if let lastGood, !(error is CancellationError) {
                segment.withExclusiveAccess { shard, _ in shard.statistics.staleServed += 1 }
                return (lastGood, .staleIfError)
            }
            throw error
        }
    }

    /// The running load of `key`, started when there is none.
    private func load(
        _ key: Key, hash: Int, tag: String?, fetch: @escaping @Sendable () async throws -> Value
    ) -> CacheLoad<Value> {
        let (load, started) = loads.withLock { loads -> (CacheLoad<Value>, Bool) in
            if let running = loads[key] { return (running, false) }
            let load = CacheLoad<Value>()
            loads[key] = load
            return (load, true)
        }
        guard started else {
            loadStatistics.withLock { $0.coalescedWaits += 1 }
            return load
        }
        Task { [self] in
            let start = clock.now
            let outcome: Result<Value, any Error>
            do {
                outcome = .success(try await fetch())
            } catch {
                outcome = .failure(error)
            }
            let elapsed = start.duration(to: clock.now)
            switch outcome {
            case .success(let value):
                insert(value, for: key, tag: tag)
            case .failure(let error):
                if let failureTimeToLive = configuration.failureTimeToLive {
                    let until = ticks() + failureTimeToLive.inNanoseconds
                    segment(for: hash).withExclusiveAccess { shard, _ in shard.rememberFailure(error, for: key, until: until) }
                }
            }
            loadStatistics.withLock { statistics in
                if case .success = outcome { statistics.loadsSucceeded += 1 } else { statistics.loadsFailed += 1 }
                statistics.totalLoadTime += elapsed
            }
            _ = loads.withLock { $0.removeValue(forKey: key) }
            load.finish(outcome)
        }
        return load
    }

    // MARK: Writing

    /// Inserts `value` for `key`, fresh for `timeToLive` (the configuration's when `nil`), tagged for
    /// ``invalidate(tag:)`` when `tag` is given.
    @inlinable
    public func insert(_ value: Value, for key: Key, timeToLive: Duration? = nil, tag: String? = nil) {
        let hash = CacheKeyHashing.hash(key, seed: keySeed)
        let now = ticks()
        let freshUntil = freshUntil(timeToLive, at: now)
        let weight = configuration.weigher?(key, value) ?? 1
        segment(for: hash).withExclusiveAccess { shard, policy in
            shard.insert(
                value, for: key, hash: hash, weight: weight, freshUntil: freshUntil, tag: tag, at: now, policy: &policy)
        }
    }

    /// Inserts many values, taking each shard's lock once.
    ///
    /// The entries are grouped by shard with a counting sort of their positions, so keys and
    /// values are copied once; the weigher runs before any lock is taken.
    @inlinable
    public func insert(contentsOf entries: some Sequence<(Key, Value)>, timeToLive: Duration? = nil, tag: String? = nil) {
        let all = Array(entries)
        guard !all.isEmpty else { return }
        var hashes: [Int] = []
        hashes.reserveCapacity(all.count)
        var starts = [Int](repeating: 0, count: segments.count + 1)
        for entry in all {
            let hash = CacheKeyHashing.hash(entry.0, seed: keySeed)
            hashes.append(hash)
            starts[segmentIndex(for: hash) + 1] += 1
        }
        for index in 1..<starts.count { starts[index] += starts[index - 1] }
        var next = starts
        var order = [Int](repeating: 0, count: all.count)
        for (position, hash) in hashes.enumerated() {
            let shard = segmentIndex(for: hash)
            order[next[shard]] = position
            next[shard] += 1
        }
        let weights = configuration.weigher.map { weigher in all.map { weigher($0.0, $0.1) } }
        let now = ticks()
        for shard in 0..<segments.count where starts[shard] < starts[shard + 1] {
            segments[shard].withExclusiveAccess { contents, policy in
                for slot in starts[shard]..<starts[shard + 1] {
                    let position = order[slot]
                    let freshUntil = freshUntil(timeToLive, at: now)
                    contents.insert(
                        all[position].1, for: all[position].0, hash: hashes[position], weight: weights?[position] ?? 1,
                        freshUntil: freshUntil, tag: tag, at: now, policy: &policy)
                }
            }
        }
    }

    /// When a value inserted now for `timeToLive` (the configuration's when `nil`) stops being
    /// fresh, jittered when the configuration says so. (Its serve-stale and stale-if-error windows
    /// follow, the same for every entry: see ``CacheShard``.)
    @inlinable
    func freshUntil(_ timeToLive: Duration?, at now: Int64) -> Int64 {
        var live = timeToLive.map(\.inNanoseconds) ?? defaultTimeToLive
        if configuration.timeToLiveJitter > 0 {
            let spread = Double(live) * configuration.timeToLiveJitter
            live = max(1, live + Int64(Double.random(in: -spread...spread)))
        }
        return CacheTime.adding(now, live)
    }

    /// Removes `key`'s entry and returns its value.
    @discardableResult
    public func removeValue(for key: Key) -> Value? {
        let hash = CacheKeyHashing.hash(key, seed: keySeed)
        return segment(for: hash).withExclusiveAccess { $0.removeValue(for: key, hash: hash, policy: &$1) }
    }

    /// Removes every entry.
    public func removeAll() {
        for segment in segments { segment.withExclusiveAccess { $0.removeAll(policy: &$1) } }
    }

    /// Removes every entry for which `predicate` is true.
    public func removeAll(where predicate: (Key, Value) throws -> Bool) rethrows {
        for segment in segments { try segment.withExclusiveAccess { shard, policy in try shard.removeAll(where: predicate, policy: &policy) } }
    }

    /// Invalidates every entry inserted with `tag` so far, without scanning: each is removed when
    /// next met (or by ``removeExpired()``).
    ///
    /// O(shards): each shard counts one more invalidation and keeps it; an entry older than that
    /// count is checked once, when next read. Entries inserted afterwards are not affected.
    public func invalidate(tag: String) {
        for segment in segments { segment.withExclusiveAccess { $0.invalidate(.tag(tag), policy: &$1) } }
    }

    /// Invalidates every entry present now whose key `selected` picks, without scanning, as
    /// ``invalidate(tag:)`` does: `selected` runs later, at most once per entry (when it is next
    /// read, or by ``removeExpired()``).
    ///
    /// ```swift
    /// cache.invalidate(keysWhere: { $0.hasSuffix(":orderbook") })
    /// ```
    public func invalidate(keysWhere selected: @escaping @Sendable (Key) -> Bool) {
        for segment in segments { segment.withExclusiveAccess { $0.invalidate(.keys(selected), policy: &$1) } }
    }

    /// Removes the entries that can no longer be returned; ``run()`` calls it periodically.
    public func removeExpired() {
        let now = ticks()
        for segment in segments { segment.withExclusiveAccess { $0.removeExpired(at: now, policy: &$1) } }
    }

    // MARK: Inspecting

    /// The number of entries (expired ones not yet removed included).
    public var count: Int { segments.reduce(0) { total, segment in total + segment.withExclusiveAccess { shard, _ in shard.count } } }

    /// A snapshot of the fresh entries.
    public var entries: [(key: Key, value: Value)] {
        let now = ticks()
        return segments.flatMap { segment in segment.withExclusiveAccess { shard, _ in shard.entries(at: now) } }
    }

    /// What the cache has done so far.
    public var statistics: CacheStatistics {
        var total = loadStatistics.withLock { $0 }
        total.loadsInFlight = loads.withLock { $0.count }
        for segment in segments {
            let (shard, count, peeks) = segment.withExclusiveAccess { shard, _ in (shard.statistics, shard.count, segment.peekCounts()) }
            total.hits += shard.hits + peeks.hits
            total.misses += shard.misses + peeks.misses
            total.staleServed += shard.staleServed
            total.evictedBySize += shard.evictedBySize
            total.evictedExpired += shard.evictedExpired
            total.evictedExplicitly += shard.evictedExplicitly
            total.replaced += shard.replaced
            total.count += count
        }
        return total
    }

    /// Sends the statistics to the `metricsFactory` given at creation: `keel_cache_entries` (gauge),
    /// counters `keel_cache_hits_total`, `_misses_total`, `_stale_served_total`,
    /// `_coalesced_waits_total`, `_loads_total` (dimension `result`), `_evictions_total` (dimension
    /// `cause`: size, expired, explicit, replaced), dimension `cache`. Reads and writes never touch
    /// metrics; call this periodically.
    public func publishMetrics() {
        exporter?.publish(statistics)
    }

    /// Removes expired entries every ``CacheConfiguration/maintenanceInterval`` until cancelled (or
    /// the service group shuts down gracefully).
    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await self.clock.sleep(for: self.configuration.maintenanceInterval)
                self.removeExpired()
            }
        }
    }
}

extension Cache where CacheClock == ContinuousClock {
    /// A cache on the continuous clock with a configuration.
    public convenience init(
        configuration: CacheConfiguration<Key, Value>, name: String = "default", metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    ) throws(CacheConfigurationError) {
        try self.init(configuration: configuration, clock: ContinuousClock(), name: name, metricsFactory: metricsFactory)
    }

    /// A cache on the continuous clock of at most `maximumCapacity` entries, fresh for `timeToLive`.
    public convenience init(maximumCapacity: Int, timeToLive: Duration) throws(CacheConfigurationError) {
        try self.init(configuration: CacheConfiguration(maximumCapacity: maximumCapacity, timeToLive: timeToLive))
    }
}

extension Cache where Key: StringProtocol {
    /// Invalidates every entry present now whose key starts with `prefix`, without scanning (see
    /// ``invalidate(keysWhere:)``).
    ///
    /// ```swift
    /// cache.insert(portfolio, for: "user:42:portfolio")
    /// cache.invalidate(keyPrefix: "user:42:")  // every entry of user 42
    /// ```
    public func invalidate(keyPrefix prefix: String) {
        invalidate(keysWhere: { $0.hasPrefix(prefix) })
    }
}
