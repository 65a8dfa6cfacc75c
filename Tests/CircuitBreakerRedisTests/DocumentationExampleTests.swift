import CircuitBreaker
import CircuitBreakerRedis
import Foundation
import KeelTesting
import Redis
import RedisTestSupport
import Testing

@Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
struct DocumentationExampleTests {
    /// The example of the module's article, on the throwaway Redis (and a breaker name of its own).
    @Test func theArticlesExampleRuns() async throws {
        let name = RedisTestSupport.uniqueName("coingecko")
        let redis = try RedisClient(configuration: RedisConfiguration(url: TestDatabaseEnvironment.requireRedisURL()))
        let store = try RedisCircuitBreakerStore(client: redis)
        var settings = CircuitBreakerConfiguration()
        settings.consecutiveFailures = 3
        let breaker = try CircuitBreaker(name: name, configuration: settings, store: store)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await redis.run() }
            group.addTask { await store.run() }
            for _ in 0..<3 { _ = try? await breaker.run { throw URLError(.timedOut) } }
            print(breaker.state)
            #expect(breaker.state == .open)
            try await RedisCircuitBreakerStoreTests.until("shared") { store.statistics.published == 1 }
            await redis.shutdown()
            group.cancelAll()
        }
    }
}
