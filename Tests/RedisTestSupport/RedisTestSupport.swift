import Foundation
import KeelTesting
public import Pooling
public import Redis
import Testing

/// Clients on the throwaway Redis of `scripts/test.sh`, shared by the Redis test targets.
public enum RedisTestSupport {
    /// The throwaway Redis, with the default 5 s connect and command limits loosened under
    /// ThreadSanitizer (`TestDatabaseEnvironment.timingBound`), where a whole suite starting at
    /// once can hold a connect back for seconds.
    public static func configuration() throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: TestDatabaseEnvironment.requireRedisURL())
        configuration.connectTimeout = TestDatabaseEnvironment.timingBound(.seconds(5))
        configuration.commandTimeout = TestDatabaseEnvironment.timingBound(.seconds(5))
        return configuration
    }

    /// A pool small and quick to retry, so a test sees Redis come back within a few probes.
    public static func pool(maxConnections: Int = 4) -> PoolConfiguration {
        var pool = PoolConfiguration()
        pool.maxConnections = maxConnections
        pool.connectRetryDelay = .milliseconds(1)
        pool.maxConnectRetryDelay = .milliseconds(5)
        pool.name = "redis-test"
        return pool
    }

    /// Runs `body` with a running client for `configuration`, shut down after it.
    public static func withClient<Result: Sendable>(
        _ configuration: RedisConfiguration, maxConnections: Int = 4, _ body: (RedisClient) async throws -> Result
    ) async throws -> Result {
        let client = try RedisClient(configuration: configuration, pool: pool(maxConnections: maxConnections))
        return try await withRunning({ try await client.run() }, shutdown: { await client.shutdown() }) {
            try await body(client)
        }
    }

    /// Runs `body` with the test configuration logged in as a new ACL user of its own (deleted
    /// after it) and that user's name, so that `CLIENT KILL TYPE pubsub USER <user>` on `admin`
    /// drops this test's connections and no other test's.
    public static func withOwnUser<Result: Sendable>(
        on admin: RedisClient, _ body: (RedisConfiguration, String) async throws -> Result
    ) async throws -> Result {
        var configuration = try configuration()
        let user = uniqueName("user")
        let password = UUID().uuidString
        try await admin.send(RedisCommand("ACL", "SETUSER", user, "on", ">\(password)", "~*", "&*", "+@all"))
        configuration.username = user
        configuration.password = password
        do {
            let result = try await body(configuration, user)
            try await admin.send(RedisCommand("ACL", "DELUSER", user))
            return result
        } catch {
            _ = try? await admin.send(RedisCommand("ACL", "DELUSER", user))
            throw error
        }
    }

    /// Redis `TIME` in microseconds: the clock the fleet's limiters read, so a test can bound
    /// what a limiter may have refilled while it ran.
    public static func serverMicroseconds(of client: RedisClient) async throws -> Int64 {
        let time = try #require(try await client.send(RedisCommand("TIME")).array)
        let seconds = try #require(time.first?.integer)
        let microseconds = try #require(time.last?.integer)
        return seconds * 1_000_000 + microseconds
    }

    /// A name (of a key, limiter, cache or user) no other test uses.
    public static func uniqueName(_ prefix: String) -> String {
        "keel-test-\(prefix)-\(UUID().uuidString.prefix(8))"
    }

    /// A loopback port nothing listens on: a proxy's, after it stopped.
    public static func closedPort() throws -> Int {
        let proxy = try TCPFaultProxy(upstreamPort: 9)
        proxy.stop()
        return proxy.port
    }
}
