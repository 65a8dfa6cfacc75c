import KeelTesting
import Redis
import RedisTestSupport
import Testing

/// The example of the Redis DocC article, run against the throwaway Redis (its URL instead of
/// the article's literal one, with the test limits of `RedisTestSupport.configuration()`).
@Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
struct DocumentationExampleTests {
    @Test func theArticlesExampleRuns() async throws {
        let configuration = try RedisTestSupport.configuration()
        let redis = try RedisClient(configuration: configuration)
        var seen: (String?, Int64?, RedisValue)?
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await redis.run() }
            try await redis.send(RedisCommand("SET", "greeting", "hello", "PX", "60000"))
            let greeting = try await redis.send(RedisCommand("GET", "greeting")).string

            let replies = try await redis.pipeline([RedisCommand("INCR", "visits"), RedisCommand("INCR", "visits")])
            let visits = try replies[1].get().integer

            let incrementBy = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
            let total = try await redis.evaluate(incrementBy, keys: ["visits"], arguments: ["10"])
            print(greeting ?? "-", visits ?? 0, total)
            seen = (greeting, visits, total)
            await redis.shutdown()
        }
        let (greeting, visits, total) = try #require(seen)
        #expect(greeting == "hello")
        let counted = try #require(visits)
        #expect(total == .integer(counted + 10))
    }
}
