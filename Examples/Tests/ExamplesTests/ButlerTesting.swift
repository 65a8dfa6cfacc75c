import ButlerKit
import ExampleSupport
import HummingbirdTesting
import Logging
import Redis

/// crypto-butler in-process for the tests: one way to start it on a fresh database.
enum ButlerTesting {
    /// Runs `body` against a butler on a fresh, migrated and emptied database of `kind`, serving
    /// through Hummingbird's router test client.
    ///
    /// `tokens` is its `BUTLER_TOKENS` table. Its jobs run only when a test runs them, and its
    /// simulated APIs answer in a millisecond; `configure` changes anything else (its request
    /// limits, say). With `redis`, the request limits (and, with `fleetLimiters`, the API
    /// limiters and the tiered caches) are kept there.
    static func withButler(
        _ kind: ExampleDatabases.Kind = .sqlite, tokens: String = "alice-token:alice,bob-token:bob",
        redis: RedisClient? = nil, fleetLimiters: Bool = false,
        configure: (inout ButlerConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (Butler, any TestClientProtocol) async throws -> Void
    ) async throws {
        let store = try await ExampleDatabases.open(kind)
        try await store.run { database in
            var configuration = try ButlerConfiguration(environment: ["BUTLER_TOKENS": tokens])
            configuration.jobsInterval = nil
            configuration.apiLatency = .milliseconds(1)
            configuration.coinGeckoInterval = .milliseconds(5)
            configure(&configuration)
            let limiters = try fleetLimiters ? redis.map {
                try ButlerLimiters.fleet(redis: $0, at: "test", coinGeckoInterval: configuration.coinGeckoInterval)
            } : nil
            let butler = try Butler(
                database: database, configuration: configuration,
                authentication: try await ButlerAuthentication(configuration.authentication),
                limiters: limiters, redis: redis, publishDatabaseMetrics: { store.publishMetrics() })
            try await butler.store.migrate()
            try await butler.store.reset()
            var logger = Logger(label: "crypto-butler-test")
            logger.logLevel = .warning
            try await butler.application(port: 0, services: [], logger: logger).test(.router) { client in
                try await body(butler, client)
            }
        }
    }
}
