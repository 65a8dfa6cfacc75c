import Cache
import KeelTesting
import MetricsTestKit
import Synchronization
import Testing

struct APIDown: Error {}

/// Counters and gates shared with fetch closures.
final class Probe: Sendable {
    let fetches = Atomic<Int>(0)
    let open = Atomic<Bool>(false)

    /// A fetch that counts itself, waits for the gate when `gated`, then returns `value`.
    func fetch(_ value: Int, gated: Bool = false) -> @Sendable () async throws -> Int {
        { [self] in
            fetches.add(1, ordering: .relaxed)
            while gated && !open.load(ordering: .relaxed) { await Task.yield() }
            return value
        }
    }

    func failing() -> @Sendable () async throws -> Int {
        { [self] in
            fetches.add(1, ordering: .relaxed)
            throw APIDown()
        }
    }

    var count: Int { fetches.load(ordering: .relaxed) }
}

@Suite struct CacheTests {
    func cache(
        capacity: Int = 100, ttl: Duration = .seconds(10), clock: ManualClock = ManualClock(),
        _ configure: (inout CacheConfiguration<String, Int>) -> Void = { _ in }
    ) throws -> Cache<String, Int, ManualClock> {
        var configuration = CacheConfiguration<String, Int>(maximumCapacity: capacity, timeToLive: ttl)
        configure(&configuration)
        return try Cache(configuration: configuration, clock: clock)
    }

    @Test func aSettingOutOfRangeIsNamedWithItsValue() {
        #expect(throws: CacheConfigurationError(setting: "maximumCapacity", value: "0", message: "maximumCapacity is 0 but must be at least 1")) {
            _ = try Cache<String, Int, ManualClock>(
                configuration: CacheConfiguration(maximumCapacity: 0, timeToLive: .seconds(1)), clock: ManualClock())
        }
        var configuration = CacheConfiguration<String, Int>(maximumCapacity: 10, timeToLive: .seconds(1))
        configuration.timeToLiveJitter = 0.9
        #expect(throws: CacheConfigurationError.self) { try configuration.validate() }
        configuration.timeToLiveJitter = 0.1
        #expect(throws: Never.self) { try configuration.validate() }
    }

    @Test func valuesLiveForTheirTimeToLive() throws {
        let clock = ManualClock()
        let cache = try cache(clock: clock)
        cache.insert(1, for: "a")
        cache.insert(2, for: "b", timeToLive: .seconds(30))
        clock.advance(by: .milliseconds(9_999))
        #expect(cache.value(for: "a") == 1)
        clock.advance(by: .milliseconds(1))
        #expect(cache.value(for: "a") == nil, "expired exactly at its time to live")
        #expect(cache.value(for: "b") == 2, "a per-entry time to live")
        clock.advance(by: .seconds(20))
        #expect(cache.value(for: "b") == nil)
        cache.insert(3, for: "c", timeToLive: .seconds(5))
        cache.insert(4, for: "c", timeToLive: .seconds(60))  // a replacement's time to live counts
        clock.advance(by: .seconds(30))
        #expect(cache.value(for: "c") == 4)
        cache.insert(5, for: "c", timeToLive: .seconds(1))  // so does a shorter one
        clock.advance(by: .seconds(1))
        #expect(cache.value(for: "c") == nil)
    }

    @Test func valuesNobodyReadsExpireAfterTheTimeToIdle() throws {
        let clock = ManualClock()
        let cache = try cache(ttl: .seconds(100), clock: clock) { $0.timeToIdle = .seconds(10) }
        cache.insert(1, for: "read")
        cache.insert(2, for: "unread")
        for _ in 0..<5 {
            clock.advance(by: .seconds(6))
            #expect(cache.value(for: "read") == 1)
        }
        #expect(cache.value(for: "unread") == nil)
    }

    @Test func aBatchInsertKeepsTheLastValueOfARepeatedKeyAndWeighsEveryEntry() throws {
        let cache = try cache(capacity: 4_000) { $0.weigher = { _, value in value } }
        let batch = (0..<600).map { ("k\($0 % 500)", $0 % 500 == 7 ? 1 : 2) } + [("k7", 3)]
        cache.insert(contentsOf: batch)
        #expect(cache.count == 500)
        #expect(cache.value(for: "k7") == 3, "the last value of a key repeated in one batch wins")
        #expect(cache.value(for: "k499") == 2)
        // Weights of 2 against a bound of 4,000: adding 2,000 more entries of weight 2 must evict.
        cache.insert(contentsOf: (500..<2_500).map { ("k\($0)", 2) })
        let total = cache.entries.reduce(0) { $0 + $1.value }
        #expect(total <= 4_000, "total weight \(total) over the bound")
    }

    @Test func jitterSpreadsExpiryWithinItsBounds() throws {
        let clock = ManualClock()
        let cache = try cache(capacity: 4_000, ttl: .seconds(100), clock: clock) { $0.timeToLiveJitter = 0.2 }
        cache.insert(contentsOf: (0..<1_000).map { ("k\($0)", $0) })
        clock.advance(by: .milliseconds(79_999))
        #expect(cache.entries.count == 1_000, "none before 80 s")
        clock.advance(by: .seconds(20))
        let left = cache.entries.count
        #expect(left > 200 && left < 800, "about half by 100 s, not all together: \(left)")
        clock.advance(by: .milliseconds(20_002))
        #expect(cache.entries.isEmpty, "all by 120 s")
    }

    @Test func everyFreshnessWindow() async throws {
        let clock = ManualClock()
        let cache = try cache(ttl: .seconds(10), clock: clock) {
            $0.serveStaleFor = .seconds(5)
            $0.staleIfErrorFor = .seconds(20)
        }
        let probe = Probe()
        #expect(try await cache.value(for: "btc", orFetch: probe.fetch(1)) == 1)
        #expect(try await cache.value(for: "btc", orFetch: probe.fetch(99)) == 1)
        #expect(probe.count == 1)

        // Stale-while-revalidate: the stale value at once, one refresh behind it.
        clock.advance(by: .seconds(12))
        #expect(try await cache.value(for: "btc", orFetch: probe.fetch(2, gated: true)) == 1)
        #expect(try await cache.value(for: "btc", orFetch: probe.fetch(3)) == 1)
        probe.open.store(true, ordering: .relaxed)
        while cache.value(for: "btc") != 2 { await Task.yield() }
        #expect(probe.count == 2, "one background refresh")

        // Stale-if-error: past the serve-stale window, the last good value when the fetch fails.
        clock.advance(by: .seconds(16))  // 16 s after the refresh: past 10 + 5
        #expect(try await cache.value(for: "btc", orFetch: probe.failing()) == 2)
        // Past every window: the error.
        clock.advance(by: .seconds(20))
        await #expect(throws: APIDown.self) { try await cache.value(for: "btc", orFetch: probe.failing()) }
        #expect(cache.statistics.staleServed == 3)
    }

    @Test func capacityIsNeverExceeded() throws {
        let cache = try cache(capacity: 1_000)
        for key in 0..<10_000 {
            cache.insert(key, for: "key-\(key)")
            if key % 997 == 0 { #expect(cache.count <= 1_000) }
        }
        #expect(cache.count == 1_000)
        #expect(cache.statistics.evictedBySize == 9_000)
    }

    @Test func frequentKeysSurviveAOneTimeScan() throws {
        let cache = try cache(capacity: 100) { $0.shardCount = 1 }
        for round in 0..<20 {
            for key in 0..<50 {
                if cache.value(for: "hot-\(key)") == nil { cache.insert(round, for: "hot-\(key)") }
            }
        }
        for key in 0..<10_000 { cache.insert(key, for: "scan-\(key)") }
        let survivors = (0..<50).filter { cache.value(for: "hot-\($0)") != nil }.count
        #expect(survivors >= 45, "an LRU would keep none: \(survivors)")
    }

    @Test func aThousandConcurrentMissesRunOneFetch() async throws {
        let cache = try cache()
        let probe = Probe()
        let values = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<1_000 {
                group.addTask { try await cache.value(for: "eth", orFetch: probe.fetch(7, gated: true)) }
            }
            while cache.statistics.coalescedWaits < 999 { await Task.yield() }
            probe.open.store(true, ordering: .relaxed)
            var values: [Int] = []
            for try await value in group { values.append(value) }
            return values
        }
        #expect(values.count == 1_000 && values.allSatisfy { $0 == 7 })
        #expect(probe.count == 1)
        let statistics = cache.statistics
        #expect(statistics.loadsSucceeded == 1 && statistics.coalescedWaits == 999 && statistics.misses == 1_000)
    }

    @Test func theStartersCancellationNeitherCancelsTheOthersNorPoisonsTheEntry() async throws {
        let cache = try cache()
        let probe = Probe()
        let starter = Task { try await cache.value(for: "sol", orFetch: probe.fetch(5, gated: true)) }
        while probe.count == 0 { await Task.yield() }
        let other = Task { try await cache.value(for: "sol", orFetch: probe.fetch(6)) }
        while cache.statistics.coalescedWaits == 0 { await Task.yield() }
        starter.cancel()
        await #expect(throws: CancellationError.self) { try await starter.value }
        probe.open.store(true, ordering: .relaxed)
        #expect(try await other.value == 5)
        #expect(cache.value(for: "sol") == 5)
        #expect(probe.count == 1)
    }

    @Test func errorsAreNotCachedUnlessConfigured() async throws {
        let clock = ManualClock()
        let plain = try cache(clock: clock)
        let probe = Probe()
        await #expect(throws: APIDown.self) { try await plain.value(for: "x", orFetch: probe.failing()) }
        await #expect(throws: APIDown.self) { try await plain.value(for: "x", orFetch: probe.failing()) }
        #expect(probe.count == 2)

        let negative = try cache(clock: clock) { $0.failureTimeToLive = .seconds(5) }
        let counted = Probe()
        await #expect(throws: APIDown.self) { try await negative.value(for: "x", orFetch: counted.failing()) }
        await #expect(throws: APIDown.self) { try await negative.value(for: "x", orFetch: counted.failing()) }
        #expect(counted.count == 1, "the failure was remembered")
        clock.advance(by: .seconds(5))
        #expect(try await negative.value(for: "x", orFetch: counted.fetch(1)) == 1)
        #expect(counted.count == 2)
    }

    @Test func tagsInvalidateTheirEntriesOnly() throws {
        let cache = try cache()
        cache.insert(contentsOf: [("okx:btc", 1), ("okx:eth", 2)], tag: "okx")
        cache.insert(3, for: "binance:btc", tag: "binance")
        cache.invalidate(tag: "okx")
        #expect(cache.value(for: "okx:btc") == nil && cache.value(for: "okx:eth") == nil)
        #expect(cache.value(for: "binance:btc") == 3)
        cache.insert(4, for: "okx:btc", tag: "okx")
        #expect(cache.value(for: "okx:btc") == 4, "entries inserted after the invalidation are valid")
    }

    @Test func aReplacedValueKeepsItsOwnTagAndOutlivesEarlierInvalidations() throws {
        let cache = try cache()
        cache.insert(1, for: "okx:btc", tag: "okx")
        cache.insert(2, for: "okx:btc")
        cache.invalidate(tag: "okx")
        #expect(cache.value(for: "okx:btc") == 2, "the replacement has no tag")
        cache.insert(3, for: "okx:eth", tag: "okx")
        cache.invalidate(keyPrefix: "okx:")
        cache.insert(4, for: "okx:eth", tag: "okx")
        #expect(cache.value(for: "okx:eth") == 4, "replaced after the invalidation, before any read")
        #expect(cache.value(for: "okx:btc") == nil)
    }

    @Test func keyPrefixesInvalidateWithoutAScan() throws {
        let cache = try cache()
        cache.insert(contentsOf: [("user:42:portfolio", 1), ("user:42:alerts", 2), ("user:420:portfolio", 3), ("price:btc", 4)])
        cache.invalidate(keyPrefix: "user:42:")
        #expect(cache.value(for: "user:42:portfolio") == nil && cache.value(for: "user:42:alerts") == nil)
        #expect(cache.value(for: "user:420:portfolio") == 3 && cache.value(for: "price:btc") == 4)
        cache.insert(5, for: "user:42:portfolio")
        #expect(cache.value(for: "user:42:portfolio") == 5, "entries inserted after the invalidation are valid")
        #expect(cache.statistics.evictedExplicitly == 2)
    }

    @Test func aKeyInvalidationRunsItsPredicateLaterAndOncePerEntry() throws {
        let calls = Atomic<Int>(0)
        let cache = try cache()
        for number in 0..<50 { cache.insert(number, for: "k\(number)") }
        cache.invalidate(keysWhere: { key in
            calls.add(1, ordering: .relaxed)
            return key.hasSuffix("7")
        })
        #expect(calls.load(ordering: .relaxed) == 0, "invalidating scans nothing")
        for _ in 0..<3 {
            for number in 0..<50 { #expect((cache.value(for: "k\(number)") == nil) == (number % 10 == 7)) }
        }
        #expect(calls.load(ordering: .relaxed) == 50, "each entry was checked once, on its first read")
        cache.invalidate(keysWhere: { $0 == "k1" })
        cache.removeExpired()
        #expect(cache.count == 44, "removeExpired applies the invalidations: 50 - 5 - 1")
        #expect(cache.value(for: "k1") == nil && cache.value(for: "k2") == 2)
    }

    @Test func manyInvalidationsAreAppliedTogether() throws {
        let cache = try cache(capacity: 1_000) { $0.shardCount = 1 }
        for number in 0..<100 { cache.insert(number, for: "k\(number)") }
        cache.invalidate(keyPrefix: "k1")  // k1, k10 to k19
        #expect(cache.count == 100, "one invalidation waits for the entries' next reads")
        for round in 0..<64 { cache.invalidate(tag: "unused-\(round)") }
        #expect(cache.count == 89, "past 64 pending invalidations, the shard applied them all at once")
        #expect(cache.value(for: "k1") == nil && cache.value(for: "k15") == nil && cache.value(for: "k2") == 2)
    }

    @Test(arguments: [false, true]) func randomInsertsAndRemovalsAgreeWithADictionary(weightless: Bool) throws {
        // Nothing is evicted (enough room, or entries that weigh nothing): the cache must then behave
        // as a dictionary, which exercises the index's probing, backward-shift deletion and, for
        // weightless entries beyond what it was sized for, growth.
        let cache = try cache(capacity: weightless ? 8 : 5_000) { configuration in
            configuration.shardCount = 1
            if weightless { configuration.weigher = { _, _ in 0 } }
        }
        var model: [String: Int] = [:]
        var generator = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            let key = "key-\(Int.random(in: 0..<3_000, using: &generator))"
            switch Int.random(in: 0..<3, using: &generator) {
            case 0:
                cache.insert(step, for: key)
                model[key] = step
            case 1:
                #expect(cache.removeValue(for: key) == model.removeValue(forKey: key))
            default:
                #expect(cache.value(for: key) == model[key])
            }
        }
        #expect(cache.count == model.count)
        #expect(Dictionary(uniqueKeysWithValues: cache.entries.map { ($0.key, $0.value) }) == model)
    }

    @Test func concurrentReadersAndWritersKeepEveryInvariant() async throws {
        // Real threads and the real clock: values must belong to their key, the capacity must hold
        // and every read must be counted once, whichever stripes the threads read through.
        let cache = try Cache<Int, Int, ContinuousClock>(maximumCapacity: 100, timeToLive: .seconds(600))
        let readsPerTask = 20_000
        let tasks = 4
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var generator = SystemRandomNumberGenerator()
                    for step in 0..<readsPerTask {
                        let key = Int.random(in: 0..<300, using: &generator)
                        if let value = cache.value(for: key) { #expect(value / 1_000_000 == key) }
                        if step % 4 == task { cache.insert(key * 1_000_000 + step, for: key) }
                        if step % 1_000 == 999 {
                            cache.removeValue(for: key)
                            // Lets other tests' tasks run: four loops that never suspend would
                            // hold both cooperative threads of a 2-core machine for seconds.
                            await Task.yield()
                        }
                    }
                }
            }
        }
        let statistics = cache.statistics
        #expect(cache.count <= 100)
        #expect(statistics.hits + statistics.misses == readsPerTask * tasks)
        #expect(statistics.hits > 0 && statistics.evictedBySize > 0)
    }

    @Test func removalsWeightsAndSnapshots() throws {
        var configuration = CacheConfiguration<String, String>(maximumCapacity: 10, timeToLive: .seconds(10))
        configuration.weigher = { _, value in value.count }
        configuration.shardCount = 1
        let cache = try Cache(configuration: configuration, clock: ManualClock())
        cache.insert("aaaa", for: "a")
        cache.insert("bbbb", for: "b")
        cache.insert("cccc", for: "c")  // 12 > 10: one goes
        #expect(cache.count == 2)
        cache.insert("dddddddddddd", for: "d")  // heavier than the whole cache: not kept
        #expect(cache.value(for: "d") == nil)
        #expect(cache.removeValue(for: cache.entries[0].key) != nil)
        cache.insert("e", for: "e")
        cache.removeAll { key, _ in key == "e" }
        #expect(cache.entries.count == 1)
        cache.removeAll()
        #expect(cache.count == 0)
    }

    @Test func everyValueIsReleasedWhenReplacedRemovedEvictedOrDroppedWithTheCache() throws {
        let released = Releases()
        do {
            var configuration = CacheConfiguration<Int, Tracked>(maximumCapacity: 100, timeToLive: .seconds(10))
            configuration.shardCount = 1
            let cache = try Cache(configuration: configuration, clock: ManualClock())
            // 150 keys into 100 places (50 evicted), the shard's entries growing past their first
            // memory several times; then 10 replaced and 10 removed.
            for key in 0..<150 { cache.insert(Tracked(released), for: key) }
            #expect(cache.count == 100)
            #expect(released.value == 50)
            let kept = cache.entries.map(\.key)
            for key in kept.prefix(10) { cache.insert(Tracked(released), for: key) }
            #expect(released.value == 60)
            for key in kept.suffix(10) { #expect(cache.removeValue(for: key) != nil) }
            #expect(released.value == 70)
            #expect(cache.count == 90)
        }
        // The 90 left go with the cache.
        #expect(released.value == 160)
    }

    @Test func statisticsAreExactAndExported() async throws {
        let metrics = TestMetrics()
        let cache = try Cache(
            configuration: CacheConfiguration<String, Int>(maximumCapacity: 10, timeToLive: .seconds(10)), clock: ManualClock(),
            name: "prices", metricsFactory: metrics)
        cache.insert(1, for: "a")
        cache.insert(2, for: "a")
        _ = cache.value(for: "a")
        _ = cache.value(for: "a")
        _ = cache.value(for: "b")
        _ = try await cache.value(for: "c") { 3 }
        let statistics = cache.statistics
        #expect(statistics.hits == 2 && statistics.misses == 2 && statistics.replaced == 1 && statistics.loadsSucceeded == 1)
        #expect(statistics.count == 2 && statistics.hitRatio == 0.5)
        cache.publishMetrics()
        cache.publishMetrics()
        let dimensions = [("cache", "prices")]
        #expect(metrics.counterTotal(label: "keel_cache_hits_total", dimensions: dimensions) == 2)
        #expect(metrics.counterTotal(label: "keel_cache_misses_total", dimensions: dimensions) == 2)
        #expect(metrics.counterTotal(label: "keel_cache_evictions_total", dimensions: dimensions + [("cause", "replaced")]) == 1)
        #expect(try metrics.expectGauge("keel_cache_entries", dimensions).lastValue == 2)
    }

    @Test func theMaintenanceTaskRemovesExpiredEntries() async throws {
        let clock = ManualClock()
        let cache = try cache(ttl: .seconds(10), clock: clock) { $0.maintenanceInterval = .seconds(30) }
        cache.insert(contentsOf: (0..<50).map { ("k\($0)", $0) })
        let maintenance = Task { try await cache.run() }
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(30))
        #expect(await clock.waitForSleepers(1))
        #expect(cache.count == 0 && cache.statistics.evictedExpired == 50)
        maintenance.cancel()
        _ = await maintenance.result
    }
}

/// A value that counts its release in `releases`.
final class Tracked: Sendable {
    let releases: Releases

    init(_ releases: Releases) { self.releases = releases }

    deinit { releases.count.add(1, ordering: .relaxed) }
}

/// How many ``Tracked`` values were released.
final class Releases: Sendable {
    let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .relaxed) }
}
