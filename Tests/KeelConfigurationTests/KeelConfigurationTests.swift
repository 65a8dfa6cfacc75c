import Cache
import CircuitBreaker
import Configuration
import KeelConfiguration
import Logging
import Pooling
import PostgresPool
import RateLimit
import SQLitePool
import Testing

@Suite struct KeelConfigurationTests {
    let logger = Logger(label: "test")

    func environment(_ variables: [String: String]) -> ConfigReader {
        ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: variables))
    }

    @Test func thePoolReadsTheSameDBVariablesAsItsEnvironmentInitialiser() throws {
        let variables = [
            "DB_MAX_CONNECTIONS": "20", "DB_MIN_CONNECTIONS": "5", "DB_MAX_OVERFLOW": "80",
            "DB_ACQUIRE_TIMEOUT_SECS": "2.5", "DB_IDLE_TIMEOUT_SECS": "none", "DB_MAX_LIFETIME_SECS": "3600",
            "DB_VALIDATION": "always", "DB_LEAK_DETECTION_SECS": "10", "DB_NAME": "primary",
        ]
        let fromConfig = try PoolConfiguration(config: environment(variables), logger: logger)
        let fromEnvironment = try PoolConfiguration(environment: variables)
        #expect(fromConfig.maxConnections == 20)
        #expect(fromConfig.minConnections == fromEnvironment.minConnections)
        #expect(fromConfig.maxOverflow == 80)
        #expect(fromConfig.acquireTimeout == .milliseconds(2500))
        #expect(fromConfig.idleTimeout == nil)
        #expect(fromConfig.maxLifetime == fromEnvironment.maxLifetime)
        #expect(fromConfig.validation == .always)
        #expect(fromConfig.leakDetectionThreshold == .seconds(10))
        #expect(fromConfig.name == "primary")
    }

    @Test func typedValuesFromAnInMemoryProviderWork() throws {
        let config = ConfigReader(provider: InMemoryProvider(values: [
            "db.maxConnections": 12, "db.connectTimeoutSecs": 1.5, "sqlite.path": ":memory:", "sqlite.foreignKeys": false,
            "sqlite.busyTimeoutSecs": 0.25, "sqlite.journalMode": "delete",
        ]))
        let pool = try PoolConfiguration(config: config, logger: logger)
        #expect(pool.maxConnections == 12)
        #expect(pool.connectTimeout == .milliseconds(1500))
        let sqlite = try SQLiteConfiguration(config: config, logger: logger)
        #expect(sqlite.location == .inMemory)
        #expect(sqlite.foreignKeys == false)
        #expect(sqlite.busyTimeout == .milliseconds(250))
        #expect(sqlite.journalMode == .delete)
    }

    @Test func aValueThatDoesNotParseIsAnErrorNamingItsKey() {
        let error = #expect(throws: KeelConfigurationError.self) {
            try PoolConfiguration(config: environment(["DB_MAX_CONNECTIONS": "abc"]), logger: logger)
        }
        #expect(error?.key == "db.maxConnections")
        #expect(error?.description.contains("abc") == true)
        let combined = #expect(throws: KeelConfigurationError.self) {
            try PoolConfiguration(config: environment(["DB_MAX_CONNECTIONS": "2", "DB_MIN_CONNECTIONS": "5"]), logger: logger)
        }
        #expect(combined?.key == "db.minConnections")
        #expect(throws: KeelConfigurationError.self) {
            try PoolConfiguration(config: ConfigReader(provider: InMemoryProvider(values: ["db.maxConnections": 2.5])), logger: logger)
        }
        #expect(throws: KeelConfigurationError.self) {
            try PoolConfiguration(config: ConfigReader(provider: InMemoryProvider(values: ["db.acquireTimeoutSecs": true])), logger: logger)
        }
        #expect(throws: KeelConfigurationError.self) {
            try SQLiteConfiguration(config: environment(["SQLITE_PATH": "/tmp/x.sqlite", "SQLITE_SYNCHRONOUS": "sometimes"]), logger: logger)
        }
        #expect(throws: KeelConfigurationError.self) {
            try CacheConfiguration<String, Int>(config: environment(["PRICES_MAXIMUM_CAPACITY": "10"]), scope: "prices")
        }
        #expect(throws: KeelConfigurationError.self) {
            try CircuitBreakerConfiguration(config: environment(["RPC_WINDOW_CALLS": "10", "RPC_WINDOW_SECS": "5"]), scope: "rpc")
        }
    }

    @Test func thePostgresURLIsRequiredAndItsPasswordNeverShown() throws {
        let missing = #expect(throws: KeelConfigurationError.self) {
            try PostgresConfiguration(config: environment([:]), logger: logger)
        }
        #expect(missing?.key == "database.url")
        let bad = #expect(throws: KeelConfigurationError.self) {
            try PostgresConfiguration(config: environment(["DATABASE_URL": "postgres://app:s3cr3t-pass@db/app?nosuchoption=1"]), logger: logger)
        }
        #expect(bad?.description.contains("s3cr3t-pass") == false)
        let good = try PostgresConfiguration(
            config: environment(["DATABASE_URL": "postgres://app:s3cr3t-pass@db:5432/app", "DATABASE_STATEMENT_CACHE_CAPACITY": "0",
                                 "DATABASE_STATEMENT_TIMEOUT_SECS": "5"]),
            logger: logger)
        #expect(good.statementCacheCapacity == 0)
        #expect(good.statementTimeout == .seconds(5))
        #expect(!good.description.contains("s3cr3t-pass"))
        #expect(!good.pgBouncerTransactionMode)
        let bounced = try PostgresConfiguration(
            config: environment(["DATABASE_URL": "postgres://app@bouncer:6432/app", "DATABASE_PG_BOUNCER_TRANSACTION_MODE": "true"]),
            logger: logger)
        #expect(bounced.pgBouncerTransactionMode)
        let typo = #expect(throws: KeelConfigurationError.self) {
            try PostgresConfiguration(
                config: environment(["DATABASE_URL": "postgres://app@bouncer:6432/app", "DATABASE_PG_BOUNCER_TRANSACTION_MODE": "ture"]),
                logger: logger)
        }
        #expect(typo?.description.contains("pgBouncerTransactionMode") == true || typo?.description.contains("PG_BOUNCER") == true)
    }

    @Test func cacheBreakerAndLimiterReadTheirScopes() throws {
        let config = environment([
            "PRICES_MAXIMUM_CAPACITY": "10000", "PRICES_TIME_TO_LIVE_SECS": "60", "PRICES_SERVE_STALE_FOR_SECS": "5",
            "RPC_CONSECUTIVE_FAILURES": "none", "RPC_FAILURE_RATE_THRESHOLD": "0.5", "RPC_WINDOW_SECS": "30",
            "RPC_OPEN_DURATION_SECS": "10", "COINGECKO_MAX_CONCURRENT": "5", "COINGECKO_MIN_INTERVAL_SECS": "2",
        ])
        let cache = try CacheConfiguration<String, Double>(config: config, scope: "prices")
        #expect(cache.maximumCapacity == 10_000)
        #expect(cache.timeToLive == .seconds(60))
        #expect(cache.serveStaleFor == .seconds(5))
        let breaker = try CircuitBreakerConfiguration(config: config, scope: "rpc")
        #expect(breaker.consecutiveFailures == nil)
        #expect(breaker.failureRateThreshold == 0.5)
        #expect(breaker.window == .time(.seconds(30)))
        #expect(breaker.openDuration == .seconds(10))
        let limiter = try RateLimiter(config: config, scope: "coingecko", clock: ContinuousClock())
        #expect(limiter.maxConcurrent == 5)
        #expect(limiter.minInterval == .seconds(2))
        #expect(throws: KeelConfigurationError.self) { try RateLimiter(config: config, scope: "okx", clock: ContinuousClock()) }
    }
}
