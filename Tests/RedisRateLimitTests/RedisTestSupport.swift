import Foundation
import KeelTesting
import Logging
import Pooling
import Redis
import RedisRateLimit
import Testing

/// Clients on the throwaway Redis of `scripts/test.sh`.
enum RedisTestSupport {
    /// The throwaway Redis, with limits loosened under ThreadSanitizer.
    static func configuration() throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: TestDatabaseEnvironment.requireRedisURL())
        configuration.connectTimeout = TestDatabaseEnvironment.timingBound(.seconds(5))
        configuration.commandTimeout = TestDatabaseEnvironment.timingBound(.seconds(5))
        return configuration
    }

    /// A pool small and quick to retry, so a test sees Redis come back within a few probes.
    static func pool(maxConnections: Int = 4) -> PoolConfiguration {
        var pool = PoolConfiguration()
        pool.maxConnections = maxConnections
        pool.connectRetryDelay = .milliseconds(1)
        pool.maxConnectRetryDelay = .milliseconds(5)
        pool.name = "redis-ratelimit-test"
        return pool
    }

    /// Runs `body` with a running client for `configuration`, shut down after it.
    static func withClient<Result: Sendable>(
        _ configuration: RedisConfiguration, maxConnections: Int = 4, _ body: (RedisClient) async throws -> Result
    ) async throws -> Result {
        let client = try RedisClient(configuration: configuration, pool: pool(maxConnections: maxConnections))
        return try await withRunning({ try await client.run() }, shutdown: { await client.shutdown() }) {
            try await body(client)
        }
    }

    /// A limiter name no other test uses.
    static func uniqueName(_ prefix: String) -> String {
        "keel-test-\(prefix)-\(UUID().uuidString.prefix(8))"
    }

    /// A loopback port nothing listens on: a proxy's, after it stopped.
    static func closedPort() throws -> Int {
        let proxy = try TCPFaultProxy(upstreamPort: 9)
        proxy.stop()
        return proxy.port
    }

    /// The message of the `invalidArgument` error `make` throws; `nil` when it throws nothing, or
    /// the description of any other error.
    static func invalidArgumentMessage(_ make: () throws -> Void) -> String? {
        do {
            try make()
            return nil
        } catch let error as RedisRateLimitError where error.code == .invalidArgument {
            return error.message
        } catch {
            return "\(error)"
        }
    }
}
