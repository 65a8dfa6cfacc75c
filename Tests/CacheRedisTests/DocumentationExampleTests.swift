import CacheRedis
import KeelTesting
import Redis
import Testing

@Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
struct DocumentationExampleTests {
    /// The example of the module's article, on the throwaway Redis (and a cache name of its own).
    @Test func theArticlesExampleRuns() async throws {
        let redis = try RedisClient(configuration: RedisConfiguration(url: TestDatabaseEnvironment.requireRedisURL()))
        let prices = try TieredCache(
            configuration: TieredCacheConfiguration(
                name: TieredCacheTests.uniqueName(), maximumCapacity: 1_000, timeToLive: .seconds(30)),
            codec: JSONTieredCacheCodec<Double>(), client: redis)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await redis.run() }
            group.addTask { try await prices.run() }
            let btc = try await prices.value(for: "BTC", tag: "majors") { 97_000.5 }
            let again = try await prices.value(for: "BTC") { 0 }
            await prices.invalidate(tag: "majors")
            print(btc, again, prices.statistics.fetches)
            #expect(btc == 97_000.5)
            #expect(again == 97_000.5)
            #expect(prices.statistics.fetches == 1)
            #expect(prices.statistics.invalidationsPublished == 1)
            await redis.shutdown()
            group.cancelAll()
        }
    }
}
