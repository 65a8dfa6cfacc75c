import Configuration
import KeelConfiguration
import Logging
import Pooling
import RateLimit
import Testing

/// The KeelConfiguration DocC article's example, run as written.
@Suite struct KeelConfigurationDocumentationExampleTests {
    @Test func articleExampleWorksAsWritten() throws {
        let config = ConfigReader(providers: [
            EnvironmentVariablesProvider(environmentVariables: ["DB_MAX_CONNECTIONS": "50"]),
            InMemoryProvider(values: [
                "db.maxConnections": 20, "db.acquireTimeoutSecs": 5,
                "coingecko.maxConcurrent": 5, "coingecko.minIntervalSecs": 2,
            ]),
        ])
        let pool = try PoolConfiguration(config: config, logger: Logger(label: "app.pool"))
        #expect(pool.maxConnections == 50)
        #expect(pool.acquireTimeout == .seconds(5))
        let coinGecko = try RateLimiter(config: config, scope: "coingecko", clock: ContinuousClock())
        #expect(coinGecko.maxConcurrent == 5)
        #expect(coinGecko.minInterval == .seconds(2))
    }
}
