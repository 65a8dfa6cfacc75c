import KeelTesting
import Redis
import RedisRateLimit
import RedisTestSupport
import Testing

/// The example of the RedisRateLimit DocC article, run against the throwaway Redis (its URL
/// instead of the article's literal one, and a limiter name of its own).
@Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
struct DocumentationExampleTests {
    @Test func theArticlesExampleRuns() async throws {
        let redis = try RedisClient(configuration: RedisTestSupport.configuration())
        let name = RedisTestSupport.uniqueName("coingecko")
        let okxName = RedisTestSupport.uniqueName("okx")
        var seen: (Int, Int64, RedisLimiterStatistics, String, RedisLimiterStatistics)?
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await redis.run() }
            let quota = try RedisTokenBucket(
                name: name, rate: 30, per: .seconds(60), burst: 5, client: redis,
                failurePolicy: .localFallback(share: 0.25))
            let start = try await RedisTestSupport.serverMicroseconds(of: redis)
            var admitted = 0
            for _ in 0..<8 where try await quota.tryAcquire() == nil { admitted += 1 }
            let elapsed = try await RedisTestSupport.serverMicroseconds(of: redis) - start
            print("admitted \(admitted) of 8 at once;", quota.statistics)

            let okx = try RedisRateLimiter(name: okxName, limits: .okx, client: redis)
            let tickers = try await okx.withPermit { "BTC-USDT: price" }
            print(tickers, okx.statistics)
            seen = (admitted, elapsed, quota.statistics, tickers, okx.statistics)
            try await redis.send(RedisCommand("DEL", "keel:ratelimit:{\(name)}"))
            try await redis.send(RedisCommand("DEL", "keel:permits:{\(okxName)}:state"))
            await redis.shutdown()
        }
        let (admitted, elapsed, statistics, tickers, okxStatistics) = try #require(seen)
        #expect(tickers == "BTC-USDT: price")
        #expect(okxStatistics.allowed == 1)
        #expect(okxStatistics.leasesHeld == 0)
        // The burst of 5, and one more token for every 2 s (30 a minute) the loop took by
        // Redis's clock: a stalled run may see one refilled.
        let refilled = Int(elapsed / 2_000_000)
        #expect(admitted >= 5 && admitted <= 5 + refilled)
        #expect(statistics.allowed == admitted)
        #expect(statistics.denied + statistics.deniedLocally == 8 - admitted)
    }
}
