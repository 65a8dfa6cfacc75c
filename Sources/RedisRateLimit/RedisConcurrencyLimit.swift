public import CoreMetrics
public import KeelCore
public import Logging
public import RateLimit
public import Redis

/// At most `maxHolders` operations at once across a whole fleet: a semaphore in Redis.
///
/// ```swift
/// let exports = try RedisConcurrencyLimit(name: "exports", maxHolders: 5, client: redis)
/// try await exports.withPermit { try await runExport() }
/// ```
///
/// It is a ``RedisRateLimiter`` with no interval between starts: permits are leases renewed while
/// held and lapsing within `lease` when a holder dies, waiters queue in arrival order and poll
/// (at most `pollInterval` apart), and the ``RedisFailurePolicy`` decides while Redis is
/// unreachable.
public final class RedisConcurrencyLimit<LimiterClock: Clock>: PermitLimiting where LimiterClock.Duration == Duration {
    private let limiter: RedisRateLimiter<LimiterClock>

    /// A fleet-wide semaphore named `name` on the Redis `client` talks to; the other parameters
    /// are ``RedisRateLimiter``'s.
    ///
    /// #### Errors
    /// ``RedisRateLimitError`` with code ``RedisRateLimitError/Code/invalidArgument`` for a
    /// setting out of range.
    public init(
        name: String, maxHolders: Int, client: RedisClient, lease: Duration = .seconds(10),
        pollInterval: Duration = .milliseconds(50), failurePolicy: RedisFailurePolicy = .failClosed,
        probeInterval: Duration = .seconds(1), clock: LimiterClock, logger: Logger = .silent,
        metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    ) throws(RedisRateLimitError) {
        limiter = try RedisRateLimiter(
            name: name, limits: PermitLimits(maxConcurrent: maxHolders), client: client, lease: lease,
            pollInterval: pollInterval, failurePolicy: failurePolicy, probeInterval: probeInterval, clock: clock,
            logger: logger, metricsFactory: metricsFactory)
    }

    /// The limit's name: the keys' hash tag, in logs and errors.
    public var name: String { limiter.name }
    /// The most holders at once across the fleet.
    public var maxHolders: Int { limiter.limits.maxConcurrent }

    /// The decisions so far, the leases held and lost, and whether Redis answers.
    public var statistics: RedisLimiterStatistics { limiter.statistics }

    /// Sends ``statistics`` to the `metricsFactory` given at creation; see
    /// ``RedisRateLimiter/publishMetrics()``.
    public func publishMetrics() {
        limiter.publishMetrics()
    }

    /// Runs `body` holding one of the fleet's permits; see ``RedisRateLimiter/withPermit(isolation:_:)``.
    ///
    /// #### Errors
    /// As ``RedisRateLimiter/withPermit(isolation:_:)``.
    public func withPermit<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        try await limiter.withPermit(isolation: isolation, body)
    }
}

extension RedisConcurrencyLimit where LimiterClock == ContinuousClock {
    /// A fleet-wide semaphore on the continuous clock; see
    /// ``init(name:maxHolders:client:lease:pollInterval:failurePolicy:probeInterval:clock:logger:metricsFactory:)``.
    ///
    /// #### Errors
    /// ``RedisRateLimitError`` with code ``RedisRateLimitError/Code/invalidArgument`` for a
    /// setting out of range.
    public convenience init(
        name: String, maxHolders: Int, client: RedisClient, lease: Duration = .seconds(10),
        pollInterval: Duration = .milliseconds(50), failurePolicy: RedisFailurePolicy = .failClosed,
        probeInterval: Duration = .seconds(1), logger: Logger = .silent, metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    ) throws(RedisRateLimitError) {
        try self.init(
            name: name, maxHolders: maxHolders, client: client, lease: lease, pollInterval: pollInterval,
            failurePolicy: failurePolicy, probeInterval: probeInterval, clock: ContinuousClock(), logger: logger,
            metricsFactory: metricsFactory)
    }
}
