import Cache
import CacheRedis
import Foundation
import KeelTesting
import Logging
import Pooling
import Redis
import RedisTestSupport
import Synchronization
import Testing

/// Two or more `TieredCache`s of one name in this process stand for processes of a fleet: each
/// has its own memory level and its own subscription, and they share the throwaway Redis.
@Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
struct TieredCacheTests {
    static func settings(_ name: String) -> TieredCacheConfiguration {
        var settings = TieredCacheConfiguration(name: name, maximumCapacity: 100, timeToLive: .seconds(60))
        settings.pollInterval = .milliseconds(5)
        return settings
    }

    /// Runs `body` with `count` running caches named `name` on one client for `redis` (the test
    /// configuration when `nil`), shut down after it; each waits until its subscription is up.
    static func withCaches<Result: Sendable>(
        _ count: Int, name: String, settings: TieredCacheConfiguration? = nil, version: UInt8 = 1,
        redis: RedisConfiguration? = nil,
        _ body: ([TieredCache<String, ContinuousClock>], RedisClient) async throws -> Result
    ) async throws -> Result {
        let client = try RedisClient(configuration: redis ?? RedisTestSupport.configuration())
        let caches = try (0..<count).map { _ in
            try TieredCache(
                configuration: settings ?? Self.settings(name), codec: JSONTieredCacheCodec<String>(version: version), client: client)
        }
        return try await withRunning({ try await client.run() }, shutdown: { await client.shutdown() }) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for cache in caches { group.addTask { try await cache.run() } }
                defer { group.cancelAll() }
                for cache in caches { try await until("\(name) subscribed") { cache.isSubscribed } }
                return try await body(caches, client)
            }
        }
    }

    /// Waits until `cache` applied one more invalidation of another cache than `before` counts.
    static func untilInvalidated(
        _ cache: TieredCache<String, ContinuousClock>, before: TieredCacheStatistics
    ) async throws {
        try await until("the invalidation arrived") {
            cache.statistics.invalidationsReceived > before.invalidationsReceived
        }
    }

    /// Waits (bounded) for something another task or process does.
    static func until(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<4_000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        Issue.record("never happened: \(what)")
    }

    static func uniqueName() -> String { RedisTestSupport.uniqueName("tiered") }

    @Test func aValueFetchedByOneProcessIsReadFromRedisByAnother() async throws {
        try await Self.withCaches(2, name: Self.uniqueName()) { caches, _ in
            let fetches = Atomic(0)
            let fetch: @Sendable () async throws -> String = {
                fetches.add(1, ordering: .relaxed)
                return "candles"
            }
            let value1 = try await caches[0].value(for: "BTC:1h", orFetch: fetch)
            #expect(value1 == "candles")
            let value2 = try await caches[1].value(for: "BTC:1h", orFetch: fetch)
            #expect(value2 == "candles")
            let value3 = try await caches[1].value(for: "BTC:1h", orFetch: fetch)
            #expect(value3 == "candles")
            #expect(fetches.load(ordering: .relaxed) == 1)
            #expect(caches[0].statistics.sharedMisses == 1)
            #expect(caches[1].statistics.sharedHits == 1)
            #expect(caches[1].local.statistics.hits == 1)
        }
    }

    @Test func anInvalidationInOneProcessDropsTheOthersCopies() async throws {
        try await Self.withCaches(2, name: Self.uniqueName()) { caches, _ in
            let version = Atomic(1)
            let fetch: @Sendable () async throws -> String = { "v\(version.load(ordering: .relaxed))" }
            for cache in caches { #expect(try await cache.value(for: "k", tag: "BTC", orFetch: fetch) == "v1") }
            version.store(2, ordering: .relaxed)

            var before = caches.map(\.statistics)
            await caches[0].invalidate(key: "k")
            try await Self.untilInvalidated(caches[1], before: before[1])
            let value4 = try await caches[1].value(for: "k", tag: "BTC", orFetch: fetch)
            #expect(value4 == "v2")

            version.store(3, ordering: .relaxed)
            before = caches.map(\.statistics)
            await caches[1].invalidate(tag: "BTC")
            try await Self.untilInvalidated(caches[0], before: before[0])
            let value5 = try await caches[0].value(for: "k", orFetch: fetch)
            #expect(value5 == "v3")

            version.store(4, ordering: .relaxed)
            before = caches.map(\.statistics)
            await caches[0].invalidate(keyPrefix: "")
            try await Self.untilInvalidated(caches[1], before: before[1])
            let value6 = try await caches[1].value(for: "k", orFetch: fetch)
            #expect(value6 == "v4")
            #expect(caches[0].statistics.invalidationsPublished == 2)
            #expect(caches[1].statistics.invalidationsPublished == 1)
        }
    }

    @Test func aPrefixWithGlobCharactersMatchesOnlyItself() async throws {
        try await Self.withCaches(1, name: Self.uniqueName()) { caches, _ in
            let fetches = Atomic(0)
            let fetch: @Sendable () async throws -> String = {
                fetches.add(1, ordering: .relaxed)
                return "x"
            }
            _ = try await caches[0].value(for: "a*b", orFetch: fetch)
            _ = try await caches[0].value(for: "aXb", orFetch: fetch)
            await caches[0].invalidate(keyPrefix: "a*")
            caches[0].local.removeAll()
            _ = try await caches[0].value(for: "aXb", orFetch: fetch)  // still in Redis
            _ = try await caches[0].value(for: "a*b", orFetch: fetch)  // deleted: fetched again
            #expect(fetches.load(ordering: .relaxed) == 3)
        }
    }

    @Test func manyTasksInManyProcessesAskingForOneColdKeyRunOneFetch() async throws {
        try await Self.withCaches(3, name: Self.uniqueName()) { caches, _ in
            let fetches = Atomic(0)
            let fetch: @Sendable () async throws -> String = {
                fetches.add(1, ordering: .relaxed)
                try await Task.sleep(for: .milliseconds(100))  // a slow API
                return "cold"
            }
            try await withThrowingTaskGroup(of: String.self) { group in
                for cache in caches {
                    for _ in 0..<20 { group.addTask { try await cache.value(for: "cold-key", orFetch: fetch) } }
                }
                for try await value in group { #expect(value == "cold") }
            }
            #expect(fetches.load(ordering: .relaxed) == 1)
            #expect(caches.map(\.statistics.fetchLockWaits).reduce(0, +) == 2)
        }
    }

    @Test func aValueOfAnotherCodecVersionIsAMissNotAFailure() async throws {
        let name = Self.uniqueName()
        try await Self.withCaches(1, name: name, version: 1) { caches, _ in
            _ = try await caches[0].value(for: "k") { "old" }
        }
        try await Self.withCaches(1, name: name, version: 2) { caches, _ in
            let value7 = try await caches[0].value(for: "k") { "new" }
            #expect(value7 == "new")
            #expect(caches[0].statistics.undecodable == 1)
        }
    }

    @Test func aStaleValueIsServedWhileOneFetchRefreshesItAndTheLastGoodOneWhenTheFetchFails() async throws {
        var settings = Self.settings(Self.uniqueName())
        settings.serveStaleFor = .seconds(60)
        settings.staleIfErrorFor = .seconds(60)
        try await Self.withCaches(1, name: settings.name, settings: settings) { caches, client in
            // Stored as if its time to live had passed: 90 s left of 60 + 60 + 60.
            let stored = [UInt8(ascii: "K"), 1] + Array(#""stale""#.utf8)
            let key = "keel:cache:\(settings.name):k:"
            try await client.send(RedisCommand(arguments: [Array("SET".utf8), Array((key + "a").utf8), stored, Array("PX".utf8), Array("90000".utf8)]))
            try await client.send(RedisCommand(arguments: [Array("SET".utf8), Array((key + "b").utf8), stored, Array("PX".utf8), Array("30000".utf8)]))
            let refreshed = Atomic(0)
            let value8 = try await caches[0].value(for: "a") { refreshed.add(1, ordering: .relaxed); return "fresh" }
            #expect(value8 == "stale")
            try await Self.until("the refresh ran") { refreshed.load(ordering: .relaxed) == 1 }
            #expect(caches[0].statistics.sharedStaleServed == 1)

            struct APIDown: Error {}
            let value9 = try await caches[0].value(for: "b") { throw APIDown() }
            #expect(value9 == "stale")
            #expect(caches[0].statistics.sharedLastGoodServed == 1)
            await #expect(throws: APIDown.self) { try await caches[0].value(for: "c") { throw APIDown() } }
        }
    }

    @Test func theMemoryLevelIsClearedWhenTheSubscriptionComesBack() async throws {
        try await RedisTestSupport.withClient(RedisTestSupport.configuration()) { admin in
            try await RedisTestSupport.withOwnUser(on: admin) { redis, user in
                try await Self.withCaches(1, name: Self.uniqueName(), redis: redis) { caches, _ in
                    _ = try await caches[0].value(for: "k") { "v" }
                    #expect(caches[0].local.count == 1)
                    let clears = caches[0].statistics.localClears
                    // The server drops this cache's subscriber connection.
                    #expect(try await admin.send(RedisCommand("CLIENT", "KILL", "TYPE", "pubsub", "USER", user)) == .integer(1))
                    try await Self.until("subscribed again") {
                        caches[0].statistics.localClears > clears && caches[0].isSubscribed
                    }
                    #expect(caches[0].local.count == 0)
                }
            }
        }
    }

    @Test func withRedisUnreachableCallersGetTheFetchAndNoRedisError() async throws {
        let proxy = try TCPFaultProxy(upstreamPort: 9)
        proxy.stop()
        var configuration = RedisConfiguration(host: "127.0.0.1", port: proxy.port)
        configuration.connectTimeout = .milliseconds(200)
        var pool = PoolConfiguration()
        pool.acquireTimeout = .milliseconds(300)
        let client = try RedisClient(configuration: configuration, pool: pool)
        let handler = RecordingLogHandler()
        // No probe falls due during the test, however slowly it runs (under TSan it took 16 s):
        // every call after the first failure decides without Redis.
        var settings = Self.settings(Self.uniqueName())
        settings.probeInterval = .seconds(3_600)
        let cache = try TieredCache(
            configuration: settings, codec: JSONTieredCacheCodec<String>(), client: client,
            logger: Logger(label: "test") { _ in handler })
        try await withRunning({ try await client.run() }, shutdown: { await client.shutdown() }) {
            let value10 = try await cache.value(for: "k") { "fetched" }
            #expect(value10 == "fetched")
            let value11 = try await cache.value(for: "k") { "again" }
            #expect(value11 == "fetched")  // from memory
            let value12 = try await cache.value(for: "other") { "second" }
            #expect(value12 == "second")  // Redis skipped until the probe
            await cache.invalidate(key: "k")
            let value13 = try await cache.value(for: "k") { "after" }
            #expect(value13 == "after")
            let statistics = cache.statistics
            #expect(statistics.outages == 1)
            #expect(statistics.redisFailures == 1)
            #expect(statistics.decidedWithoutRedis == 3)
            #expect(handler.recorded.filter { $0.contains("unreachable") }.count == 1)
        }
    }

    @Test func settingsOutOfRangeAreRefusedWithTheirNames() throws {
        var settings = Self.settings("x")
        settings.maximumLocalAge = .zero
        #expect(throws: CacheConfigurationError.self) { try settings.validate() }
        settings = Self.settings("")
        do {
            try settings.validate()
            Issue.record("an empty name was accepted")
        } catch {
            #expect(error.setting == "name")
        }
    }
}
