public import CoreMetrics
public import KeelCore
public import Logging
public import RateLimit
public import Redis
import Pooling

/// "`rate` per period with bursts of `burst`" for a whole fleet: every process that names the
/// same limiter on the same Redis shares one quota.
///
/// ```swift
/// let coinGecko = try RedisTokenBucket(name: "coingecko", rate: 30, per: .seconds(60), burst: 5, client: redis)
/// try await coinGecko.acquire()          // waits for the fleet's next free slot
/// let price = try await api.price("bitcoin")
/// ```
///
/// Each decision is one `EVALSHA` of a GCRA script (`GCRA`'s arithmetic, in microseconds): the
/// script reads the time from Redis `TIME`, so clocks of the processes never matter, and stores
/// the theoretical arrival time in one key that expires when it is no longer needed. The key,
/// `keel:ratelimit:{name}`, carries its name as a hash tag, so a Redis Cluster serves it from
/// one slot. A denial is cached: until its retry-after has passed, calls of at least the denied
/// cost are answered locally without asking Redis (GCRA never admits them sooner).
///
/// When Redis cannot be reached, the ``RedisFailurePolicy`` decides (denying by default); the
/// switch is logged once and counted in ``statistics``, and Redis is asked again every
/// `probeInterval` until it answers.
///
/// Tasks that check a bucket at a high rate run fastest on the Redis reactor's thread
/// (`withTaskExecutorPreference(client.taskExecutor)`, see `RedisClient.taskExecutor`).
public final class RedisTokenBucket<LimiterClock: Clock>: RateLimiting where LimiterClock.Duration == Duration {
    /// The GCRA script every bucket runs, for tools that run it themselves (a load generator, a
    /// script in another language). `KEYS[1]` is the bucket's key, `ARGV` the burst tolerance
    /// (burst × emission interval) and the increment (cost × emission interval) in microseconds;
    /// it returns 0 when allowed, else the microseconds until the call would be.
    public static var script: RedisScript { gcraScript }

    /// The limiter's name: the key's hash tag, in logs and errors.
    public let name: String
    /// The rate and burst.
    public let gcra: GCRA
    /// What happens while Redis is unreachable.
    public let failurePolicy: RedisFailurePolicy
    private let client: RedisClient
    private let key: String
    private let toleranceArgument: String
    private let intervalMicroseconds: Int64
    private let clock: LimiterClock
    private let report: RedisOutageReport
    private let state: Locked<RedisLimiterStateMachine<LimiterClock.Instant>>
    private let fallback: TokenBucket<LimiterClock>?
    private let fallbackBurst: Int
    private let exporter: StatisticsExporter<RedisLimiterStatistics>?

    /// A fleet-wide bucket named `name` on the Redis `client` talks to.
    ///
    /// - Parameters:
    ///   - name: The limiter's name; processes that use the same name share the quota.
    ///   - rate: How many units per `period`; at least 1.
    ///   - period: The period of `rate`; `period / rate` must be at least a microsecond.
    ///   - burst: How many units may pass at once; at least 1.
    ///   - client: The Redis client (running, or about to run, in the caller's service group).
    ///   - failurePolicy: What to do while Redis is unreachable; ``RedisFailurePolicy/failClosed``
    ///     by default.
    ///   - probeInterval: How often Redis is tried again while unreachable. Default 1 s.
    ///   - clock: The clock waits and the denial cache run on.
    ///   - logger: Where the switch to the failure policy and the recovery are logged.
    ///   - metricsFactory: Where ``publishMetrics()`` sends the statistics (`keel_redis_limiter_…`,
    ///     dimension `limiter`); `nil` for none. Default `MetricsSystem.factory`.
    ///
    /// #### Errors
    /// ``RedisRateLimitError`` with code ``RedisRateLimitError/Code/invalidArgument`` for a
    /// setting out of range.
    public init(
        name: String, rate: Int, per period: Duration, burst: Int, client: RedisClient,
        failurePolicy: RedisFailurePolicy = .failClosed, probeInterval: Duration = .seconds(1),
        clock: LimiterClock, logger: Logger = .silent, metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    ) throws(RedisRateLimitError) {
        let report = try RedisOutageReport(
            limiter: name, failurePolicy: failurePolicy, probeInterval: probeInterval, logger: logger)
        guard rate >= 1 else { throw report.invalidArgument("rate must be at least 1, not \(rate)") }
        guard burst >= 1 else { throw report.invalidArgument("burst must be at least 1, not \(burst)") }
        guard period > .zero else { throw report.invalidArgument("period must be positive, not \(period)") }
        guard (period / rate) >= .microseconds(1) else {
            throw report.invalidArgument("period / rate must be at least 1 µs, not \(period / rate)")
        }
        self.report = report
        self.name = name
        gcra = GCRA(rate: rate, per: period, burst: burst)
        self.failurePolicy = failurePolicy
        self.client = client
        key = "keel:ratelimit:{\(name)}"
        intervalMicroseconds = gcra.emissionInterval.inNanoseconds / 1000
        toleranceArgument = String(intervalMicroseconds * Int64(burst))
        self.clock = clock
        state = Locked(RedisLimiterStateMachine(probeInterval: probeInterval))
        let localBurst = max(1, Int(Double(burst) * (failurePolicy.localShare ?? 1)))
        fallbackBurst = localBurst
        fallback = failurePolicy.localShare.map { share in
            TokenBucket(rate: rate, per: period * (1 / share), burst: localBurst, clock: clock)
        }
        exporter = RedisLimiterStatistics.exporter(limiter: name, factory: metricsFactory)
    }

    /// The decisions so far, and whether Redis answers.
    public var statistics: RedisLimiterStatistics {
        state.withLock { $0.statistics }
    }

    /// Sends ``statistics`` to the `metricsFactory` given at creation: counters
    /// `keel_redis_limiter_allowed_total`, `_denied_total`, `_denied_locally_total`,
    /// `_redis_failures_total`, `_outages_total`, `_decided_without_redis_total`,
    /// `_leases_lost_total`, gauges `keel_redis_limiter_leases_held` and
    /// `keel_redis_limiter_redis_reachable` (1 or 0). Call it periodically or before a scrape;
    /// deciding never touches metrics.
    public func publishMetrics() {
        exporter?.publish(statistics)
    }

    /// Takes `cost` units now if the fleet's quota allows; returns `nil` then, or how long until
    /// it would.
    ///
    /// #### Errors
    /// ``RedisRateLimitError`` (``RedisRateLimitError/Code/invalidArgument`` for a cost outside
    /// 1…burst; ``RedisRateLimitError/Code/unavailable`` while Redis is unreachable and the policy
    /// is ``RedisFailurePolicy/failClosed``), a `RedisError` of code `server` when Redis refuses
    /// the script, or `CancellationError`.
    public func tryAcquire(cost: Int = 1) async throws -> Duration? {
        guard cost >= 1, cost <= gcra.burst else {
            throw report.invalidArgument("cost must be in 1...\(gcra.burst) (the burst), not \(cost)")
        }
        let start = clock.now
        switch state.withLock({ $0.plan(cost: cost, now: start) }) {
        case .deniedUntil(let until): return start.duration(to: until)
        case .followPolicy: return try decideWithoutRedis(cost: cost, because: nil)
        case .ask: break
        }
        let reply: RedisValue
        do {
            reply = try await client.evaluate(
                Self.script, keys: [key], arguments: [toleranceArgument, String(intervalMicroseconds * Int64(cost))])
        } catch let error where RedisUnavailability.covers(error) {
            let now = clock.now
            if state.withLock({ $0.failed(now: now) }) { report.outageStarted(error) }
            return try decideWithoutRedis(cost: cost, because: error)
        }
        guard let microseconds = reply.integer, microseconds >= 0 else {
            throw RedisError(code: .protocolViolation, message: "the GCRA script answered \(reply), not a wait in microseconds")
        }
        let wait: Duration? = microseconds == 0 ? nil : .microseconds(microseconds)
        let now = clock.now
        if state.withLock({ $0.answered(cost: cost, wait: wait, now: now) }) { report.outageEnded() }
        return wait
    }

    /// Waits until the fleet's quota allows `cost` units, then takes them.
    ///
    /// #### Errors
    /// As ``tryAcquire(cost:)``; `CancellationError` when the task is cancelled while waiting
    /// (nothing is taken then).
    public func acquire(cost: Int = 1) async throws {
        while let wait = try await tryAcquire(cost: cost) {
            try await clock.sleep(for: wait, tolerance: nil)
        }
    }

    private func decideWithoutRedis(cost: Int, because error: (any Error)?) throws -> Duration? {
        state.withLock { $0.decidedWithoutRedis() }
        switch failurePolicy.base {
        case .failOpen:
            return nil
        case .localFallback:
            // A cost above this process's share of the burst takes all of that share.
            return fallback?.tryAcquire(cost: min(cost, fallbackBurst))
        case .failClosed:
            throw report.unavailable(because: error)
        }
    }
}

extension RedisTokenBucket where LimiterClock == ContinuousClock {
    /// A fleet-wide bucket on the continuous clock; see
    /// ``init(name:rate:per:burst:client:failurePolicy:probeInterval:clock:logger:metricsFactory:)``.
    ///
    /// #### Errors
    /// ``RedisRateLimitError`` with code ``RedisRateLimitError/Code/invalidArgument`` for a
    /// setting out of range.
    public convenience init(
        name: String, rate: Int, per period: Duration, burst: Int, client: RedisClient,
        failurePolicy: RedisFailurePolicy = .failClosed, probeInterval: Duration = .seconds(1), logger: Logger = .silent,
        metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    ) throws(RedisRateLimitError) {
        try self.init(
            name: name, rate: rate, per: period, burst: burst, client: client, failurePolicy: failurePolicy,
            probeInterval: probeInterval, clock: ContinuousClock(), logger: logger, metricsFactory: metricsFactory)
    }
}

/// GCRA in Lua, one script object for every bucket so its digest is learned once per process.
/// `KEYS[1]` holds the theoretical arrival time in microseconds of Redis `TIME`; `ARGV` are the
/// burst tolerance (burst × emission interval) and the increment (cost × emission interval), in
/// microseconds. Returns 0 when allowed (and stores the new arrival time, expiring when it has
/// passed), else the microseconds until the call would be allowed. Microsecond times stay below
/// 2^53, so Lua's doubles hold them exactly; `%.0f` writes them without an exponent.
private let gcraScript = RedisScript(
    """
    local time = redis.call('TIME')
    local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
    local tat = tonumber(redis.call('GET', KEYS[1]) or now)
    if tat < now then tat = now end
    local nextTat = tat + tonumber(ARGV[2])
    local allowAt = nextTat - tonumber(ARGV[1])
    if allowAt > now then return allowAt - now end
    redis.call('SET', KEYS[1], string.format('%.0f', nextTat), 'PX', string.format('%.0f', math.floor((nextTat - now) / 1000) + 1))
    return 0
    """)
