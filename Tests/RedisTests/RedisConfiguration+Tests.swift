import KeelTesting
import Redis
import Testing

extension RedisConfiguration {
    /// The throwaway Redis of `scripts/test.sh`, with the default 5 s connect and command limits
    /// loosened under ThreadSanitizer (`TestDatabaseEnvironment.timingBound`), where a whole
    /// suite starting at once can hold a connect back for seconds.
    static func forTests() throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: TestDatabaseEnvironment.requireRedisURL())
        configuration.connectTimeout = TestDatabaseEnvironment.timingBound(.seconds(5))
        configuration.commandTimeout = TestDatabaseEnvironment.timingBound(.seconds(5))
        return configuration
    }
}
