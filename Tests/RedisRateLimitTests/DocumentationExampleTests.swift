import KeelTesting
import Redis
import RedisRateLimit
import Testing

/// The example of the RedisRateLimit DocC article, run against the throwaway Redis (its URL
/// instead of the article's literal one, and a limiter name of its own).
@Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
struct DocumentationExampleTests {
    @Test func theArticlesExampleRuns() async throws {
        let redis = try RedisClient(configuration: RedisTestSupport.configuration())
        let name = RedisTestSupport.uniqueName("coingecko")
        var seen: (Int, RedisLimiterStatistics)?
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await redis.run() }
            let quota = try RedisTokenBucket(
                name: name, rate: 30, per: .seconds(60), burst: 5, client: redis,
                failurePolicy: .localFallback(share: 0.25))
            var admitted = 0
            for _ in 0..<8 where try await quota.tryAcquire() == nil { admitted += 1 }
            print("admitted \(admitted) of 8 at once;", quota.statistics)
            seen = (admitted, quota.statistics)
            try await redis.send(RedisCommand("DEL", "keel:ratelimit:{\(name)}"))
            await redis.shutdown()
        }
        let (admitted, statistics) = try #require(seen)
        #expect(admitted == 5)
        #expect(statistics.allowed == 5)
        #expect(statistics.denied + statistics.deniedLocally == 3)
    }
}
