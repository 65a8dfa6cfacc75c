public import CoreMetrics
public import KeelCore
public import Logging
public import RateLimit
public import Redis

/// At most `maxConcurrent` operations at once and starts at least `minInterval` apart, for a
/// whole fleet: the in-process `RateLimiter`'s rule, shared through Redis by every process
/// that names the same limiter.
///
/// ```swift
/// let coinGecko = try RedisRateLimiter(name: "coingecko", limits: .coinGecko, client: redis)
/// let price = try await coinGecko.withPermit { try await api.price("bitcoin") }
/// ```
///
/// A permit is a lease in Redis: renewed every third of `lease` while held, given back when
/// `withPermit` returns, and lapsing on its own when its holder dies (a SIGKILL, a lost machine),
/// so the fleet gets it back within `lease`. Waiters queue in Redis in arrival order and poll:
/// one refused while every permit is held asks again after a back-off from 1 ms up to
/// `pollInterval`; one refused by the interval asks when the interval has passed. Redis `TIME`
/// decides every start, so the clocks of the processes never matter.
///
/// While Redis cannot be reached, the ``RedisFailurePolicy`` decides (by default, calls fail
/// with ``RedisRateLimitError/Code/unavailable``); `localFallback(share:)` limits this process to
/// its share of `maxConcurrent` and of the start rate.
public final class RedisRateLimiter<LimiterClock: Clock>: PermitLimiting where LimiterClock.Duration == Duration {
    private let permits: RedisPermitQueue<LimiterClock>
    private let exporter: StatisticsExporter<RedisLimiterStatistics>?

    /// A fleet-wide limiter named `name` on the Redis `client` talks to.
    ///
    /// - Parameters:
    ///   - name: The limiter's name; processes that use the same name share the limits.
    ///   - limits: How many at once and how far apart their starts (a preset: `.coinGecko`).
    ///   - client: The Redis client (running, or about to run, in the caller's service group).
    ///   - lease: How long a permit outlives a holder that stopped renewing it. Default 10 s;
    ///     at least 30 ms.
    ///   - pollInterval: The longest a waiter waits before asking again while every permit is
    ///     held. Default 50 ms.
    ///   - failurePolicy: What to do while Redis is unreachable; ``RedisFailurePolicy/failClosed``
    ///     by default.
    ///   - probeInterval: How often Redis is tried again while unreachable. Default 1 s.
    ///   - clock: The clock waits and renewals run on.
    ///   - logger: Where the switch to the failure policy, the recovery and lapsed leases are logged.
    ///   - metricsFactory: Where ``publishMetrics()`` sends the statistics (`keel_redis_limiter_…`,
    ///     dimension `limiter`); `nil` for none. Default `MetricsSystem.factory`.
    ///
    /// #### Errors
    /// ``RedisRateLimitError`` with code ``RedisRateLimitError/Code/invalidArgument`` for a
    /// setting out of range.
    public init(
        name: String, limits: PermitLimits, client: RedisClient, lease: Duration = .seconds(10),
        pollInterval: Duration = .milliseconds(50), failurePolicy: RedisFailurePolicy = .failClosed,
        probeInterval: Duration = .seconds(1), clock: LimiterClock, logger: Logger = .silent,
        metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    ) throws(RedisRateLimitError) {
        permits = try RedisPermitQueue(
            name: name, limits: limits, lease: lease, pollInterval: pollInterval, client: client,
            failurePolicy: failurePolicy, probeInterval: probeInterval, clock: clock, logger: logger)
        exporter = RedisLimiterStatistics.exporter(limiter: name, factory: metricsFactory)
    }

    /// The limiter's name: the keys' hash tag, in logs and errors.
    public var name: String { permits.name }
    /// How many at once and how far apart their starts.
    public var limits: PermitLimits { permits.limits }
    /// What happens while Redis is unreachable.
    public var failurePolicy: RedisFailurePolicy { permits.failurePolicy }

    /// The decisions so far, the leases held and lost, and whether Redis answers.
    public var statistics: RedisLimiterStatistics { permits.statistics }

    /// Sends ``statistics`` to the `metricsFactory` given at creation: counters
    /// `keel_redis_limiter_allowed_total`, `_denied_total`, `_denied_locally_total`,
    /// `_redis_failures_total`, `_outages_total`, `_decided_without_redis_total`,
    /// `_leases_lost_total`, gauges `keel_redis_limiter_leases_held` and
    /// `keel_redis_limiter_redis_reachable` (1 or 0). Call it periodically or before a scrape;
    /// deciding never touches metrics.
    public func publishMetrics() {
        exporter?.publish(statistics)
    }

    /// Runs `body` holding one of the fleet's permits, given back when it returns or throws.
    ///
    /// #### Errors
    /// `CancellationError` when the task is cancelled while waiting (its place in Redis is taken
    /// back); ``RedisRateLimitError`` with code ``RedisRateLimitError/Code/unavailable`` while Redis
    /// is unreachable and the policy is ``RedisFailurePolicy/failClosed``; a `RedisError` of code
    /// `server` when Redis refuses the script; whatever `body` throws.
    public func withPermit<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        try await permits.withPermit(isolation: isolation, body)
    }
}

extension RedisRateLimiter where LimiterClock == ContinuousClock {
    /// A fleet-wide limiter on the continuous clock; see
    /// ``init(name:limits:client:lease:pollInterval:failurePolicy:probeInterval:clock:logger:metricsFactory:)``.
    ///
    /// #### Errors
    /// ``RedisRateLimitError`` with code ``RedisRateLimitError/Code/invalidArgument`` for a
    /// setting out of range.
    public convenience init(
        name: String, limits: PermitLimits, client: RedisClient, lease: Duration = .seconds(10),
        pollInterval: Duration = .milliseconds(50), failurePolicy: RedisFailurePolicy = .failClosed,
        probeInterval: Duration = .seconds(1), logger: Logger = .silent, metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    ) throws(RedisRateLimitError) {
        try self.init(
            name: name, limits: limits, client: client, lease: lease, pollInterval: pollInterval,
            failurePolicy: failurePolicy, probeInterval: probeInterval, clock: ContinuousClock(), logger: logger,
            metricsFactory: metricsFactory)
    }
}
