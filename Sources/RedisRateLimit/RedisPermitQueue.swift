import KeelCore
import Logging
import RateLimit
import Redis

/// The fleet-wide permits behind ``RedisRateLimiter`` and ``RedisConcurrencyLimit``: at most
/// `maxHolders` leases at once across every process, starts at least `minInterval` apart, waiters
/// served in arrival order.
///
/// The state is four keys of one hash tag (`keel:permits:{name}:…`): `holders` (lease id → when it
/// expires), `queue` (waiter id → arrival number), `deadlines` (waiter id → when its place lapses)
/// and `state` (the arrival counter, the last start). One script decides a request atomically on
/// Redis `TIME`: it drops lapsed leases and waiters, queues a newcomer, and grants a lease when the
/// waiter is among the first free places and the interval allows. A holder's leases are renewed
/// every third of the lease while held; a holder that dies (SIGKILL) stops renewing and its lease
/// lapses. Waiters poll: a refused waiter asks again when the interval's wait is over, or after a
/// back-off from 1 ms up to `pollInterval` when every permit is held, so a release is seen within
/// `pollInterval`.
final class RedisPermitQueue<LimiterClock: Clock>: Sendable where LimiterClock.Duration == Duration {
    /// What a caller holds.
    enum Permit: Sendable {
        /// A lease in Redis.
        case lease(String)
        /// A permit of the local fallback limiter.
        case local
        /// Nothing: the policy let the call run without a permit.
        case unlimited
    }

    private struct State {
        var machine: RedisLimiterStateMachine<LimiterClock.Instant>
        var held: Set<String> = []
        var renewing = false
        var leasesLost = 0
        var random: SplitMix64
    }

    let name: String
    let limits: PermitLimits
    let lease: Duration
    let pollInterval: Duration
    let failurePolicy: RedisFailurePolicy
    private let client: RedisClient
    private let keys: [String]
    private let acquireArguments: [String]
    private let renewArguments: [String]
    private let clock: LimiterClock
    private let logger: Logger
    private let report: RedisOutageReport
    private let state: Locked<State>
    private let fallback: RateLimiter<LimiterClock>?
    private let pollBackoff: Backoff

    init(
        name: String, limits: PermitLimits, lease: Duration, pollInterval: Duration, client: RedisClient,
        failurePolicy: RedisFailurePolicy, probeInterval: Duration, clock: LimiterClock, logger: Logger
    ) throws(RedisRateLimitError) {
        let report = try RedisOutageReport(
            limiter: name, failurePolicy: failurePolicy, probeInterval: probeInterval, logger: logger)
        guard limits.maxConcurrent >= 1 else {
            throw report.invalidArgument("maxConcurrent must be at least 1, not \(limits.maxConcurrent)")
        }
        guard limits.minInterval >= .zero else {
            throw report.invalidArgument("minInterval must not be negative, not \(limits.minInterval)")
        }
        guard lease >= .milliseconds(30) else { throw report.invalidArgument("lease must be at least 30 ms, not \(lease)") }
        guard pollInterval > .zero else { throw report.invalidArgument("pollInterval must be positive, not \(pollInterval)") }
        self.report = report
        self.name = name
        self.limits = limits
        self.lease = lease
        self.pollInterval = pollInterval
        self.failurePolicy = failurePolicy
        self.client = client
        let prefix = "keel:permits:{\(name)}:"
        keys = ["holders", "queue", "deadlines", "state"].map { prefix + $0 }
        // A waiter's place lapses when it has not asked for three polls (or three intervals).
        let waiterLapse = max(pollInterval, limits.minInterval) * 3 + .seconds(1)
        let keyLifetime = (lease + waiterLapse + limits.minInterval) * 2
        let microseconds = { (duration: Duration) in String(duration.inNanoseconds / 1000) }
        acquireArguments = [
            String(limits.maxConcurrent), microseconds(limits.minInterval), microseconds(lease), microseconds(waiterLapse),
            String(keyLifetime.inNanoseconds / 1_000_000),
        ]
        renewArguments = [microseconds(lease), String(keyLifetime.inNanoseconds / 1_000_000)]
        self.clock = clock
        self.logger = logger
        state = Locked(
            State(
                machine: RedisLimiterStateMachine(probeInterval: probeInterval),
                random: SplitMix64(seed: UInt64.random(in: .min ... .max))))
        fallback = failurePolicy.localShare.map { share in
            RateLimiter(
                maxConcurrent: max(1, Int(Double(limits.maxConcurrent) * share)),
                minInterval: limits.minInterval * (1 / share), clock: clock, name: name)
        }
        pollBackoff = Backoff(initialDelay: .milliseconds(1), maximumDelay: pollInterval, jitter: .equal)
    }

    /// The decisions so far, whether Redis answers, and the leases lost.
    var statistics: RedisLimiterStatistics {
        state.withLock { state in
            var statistics = state.machine.statistics
            statistics.leasesHeld = state.held.count
            statistics.leasesLost = state.leasesLost
            return statistics
        }
    }

    // MARK: Acquiring

    /// Waits for a permit: a lease, or what the failure policy gives while Redis is unreachable.
    func acquire() async throws -> Permit {
        let id = state.withLock { state in
            String(state.random.next(), radix: 36) + String(state.random.next(), radix: 36)
        }
        var refusals = 0
        // Whether Redis may hold a place or a lease of this request that an error must take back.
        var mayHoldPlace = false
        do {
            while true {
                try Task.checkCancellation()
                let now = clock.now
                switch state.withLock({ $0.machine.plan(cost: 1, now: now) }) {
                case .deniedUntil(let until):
                    try await clock.sleep(until: until, tolerance: nil)
                    continue
                case .followPolicy:
                    return try await permitWithoutRedis(because: nil)
                case .ask:
                    break
                }
                let reply: RedisValue
                do {
                    mayHoldPlace = true
                    reply = try await client.evaluate(permitScript, keys: keys, arguments: acquireArguments + [id])
                } catch let error where RedisUnavailability.covers(error) {
                    // Whatever Redis holds of this request lapses on its own.
                    mayHoldPlace = false
                    reportFailure(error)
                    return try await permitWithoutRedis(because: error)
                }
                guard let answer = reply.array, answer.count == 2, let granted = answer[0].integer,
                    let waitMicroseconds = answer[1].integer
                else {
                    throw RedisError(code: .protocolViolation, message: "the permit script answered \(reply)")
                }
                let answeredAt = clock.now
                if granted == 1 {
                    let (recovered, startRenewing) = state.withLock { state in
                        let recovered = state.machine.answered(cost: 1, wait: nil, now: answeredAt)
                        state.held.insert(id)
                        let start = !state.renewing
                        state.renewing = true
                        return (recovered, start)
                    }
                    if recovered { report.outageEnded() }
                    if startRenewing { Task { await self.renewWhileHeld() } }
                    return .lease(id)
                }
                // Refused: wait out the interval (cached, so other local callers wait too), or poll.
                let wait: Duration? = waitMicroseconds > 0 ? .microseconds(waitMicroseconds) : nil
                let (recovered, delay) = state.withLock { state in
                    let recovered =
                        wait == nil
                        ? state.machine.refused(now: answeredAt)
                        : state.machine.answered(cost: 1, wait: wait, now: answeredAt)
                    refusals += 1
                    return (recovered, wait ?? pollBackoff.delay(afterFailure: refusals, random: state.random.nextUnit()))
                }
                if recovered { report.outageEnded() }
                try await clock.sleep(for: delay, tolerance: nil)
            }
        } catch {
            // The request may have queued or been granted: take its place out of Redis.
            if mayHoldPlace { await removeFromRedis(id) }
            throw error
        }
    }

    /// Runs `body` holding a permit, given back when it returns or throws.
    func withPermit<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        let permit = try await acquire()
        let result: Result
        do {
            result = try await body()
        } catch {
            await release(permit)
            throw error
        }
        await release(permit)
        return result
    }

    /// Gives `permit` back.
    func release(_ permit: Permit) async {
        switch permit {
        case .lease(let id):
            _ = state.withLock { $0.held.remove(id) }
            await removeFromRedis(id)
        case .local:
            fallback?.release()
        case .unlimited:
            break
        }
    }

    /// Takes `id` out of the holders and the queue, even from a cancelled task (the lease lapses
    /// if Redis cannot be reached).
    private func removeFromRedis(_ id: String) async {
        let commands = keys.prefix(3).map { RedisCommand("ZREM", $0, id) }
        let client = client
        await Task { _ = try? await client.pipeline(commands) }.value
    }

    private func permitWithoutRedis(because error: (any Error)?) async throws -> Permit {
        state.withLock { $0.machine.decidedWithoutRedis() }
        switch failurePolicy.base {
        case .failOpen:
            return .unlimited
        case .localFallback:
            try await fallback?.acquire()
            return .local
        case .failClosed:
            throw report.unavailable(because: error)
        }
    }

    private func reportFailure(_ error: any Error) {
        let now = clock.now
        if state.withLock({ $0.machine.failed(now: now) }) { report.outageStarted(error) }
    }

    // MARK: Renewing

    /// Renews this process's leases every third of the lease until none is held.
    private func renewWhileHeld() async {
        while true {
            try? await clock.sleep(for: lease / 3, tolerance: nil)
            let held = state.withLock { state -> [String] in
                if state.held.isEmpty { state.renewing = false }
                return Array(state.held)
            }
            if held.isEmpty { return }
            do {
                let reply = try await client.evaluate(renewScript, keys: [keys[0]], arguments: renewArguments + held)
                let kept = reply.array?.map { $0.integer == 1 } ?? []
                let lost = zip(held, kept).filter { !$0.1 }.map(\.0)
                if !lost.isEmpty {
                    state.withLock { state in
                        for id in lost { state.held.remove(id) }
                        state.leasesLost += lost.count
                    }
                    logger.warning(
                        "leases lapsed before they were renewed; their holders run without a permit",
                        metadata: ["limiter": "\(name)", "leases": "\(lost.count)"])
                }
            } catch let error where RedisUnavailability.covers(error) {
                reportFailure(error)
            } catch {
                logger.warning("renewing leases failed", metadata: ["limiter": "\(name)", "error": "\(error)"])
            }
        }
    }
}

/// Decides one permit request (see ``RedisPermitQueue``). `KEYS`: holders, queue, deadlines,
/// state. `ARGV`: the most holders, the interval, the lease and a waiter's lapse (µs), the keys'
/// lifetime (ms), the request's id. Returns `{1, 0}` when granted, else `{0, µs}`: the wait the
/// interval imposes, 0 when every permit is held.
private let permitScript = RedisScript(
    """
    local time = redis.call('TIME')
    local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
    local function text(n) return string.format('%.0f', n) end
    local limit, interval, lease, lapse = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
    local id = ARGV[6]
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', text(now))
    for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', text(now))) do
      redis.call('ZREM', KEYS[2], member)
      redis.call('ZREM', KEYS[3], member)
    end
    local granted = redis.call('ZSCORE', KEYS[1], id) ~= false
    local wait = 0
    if not granted then
      local rank = redis.call('ZRANK', KEYS[2], id)
      if rank == false then
        redis.call('ZADD', KEYS[2], redis.call('HINCRBY', KEYS[4], 'arrivals', 1), id)
        rank = redis.call('ZRANK', KEYS[2], id)
      end
      if interval > 0 then
        local last = tonumber(redis.call('HGET', KEYS[4], 'lastStart') or '')
        if last and last + interval > now then wait = last + interval - now end
      end
      if wait == 0 and rank < limit - redis.call('ZCARD', KEYS[1]) then
        redis.call('ZREM', KEYS[2], id)
        redis.call('ZREM', KEYS[3], id)
        redis.call('ZADD', KEYS[1], text(now + lease), id)
        if interval > 0 then redis.call('HSET', KEYS[4], 'lastStart', text(now)) end
        granted = true
      else
        redis.call('ZADD', KEYS[3], text(now + lapse), id)
      end
    end
    for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
    if granted then return {1, 0} end
    return {0, wait}
    """)

/// Renews leases. `KEYS[1]`: holders. `ARGV`: the lease (µs), the key's lifetime (ms), then the
/// lease ids. Returns 1 for each lease renewed, 0 for each that had lapsed (and is removed).
private let renewScript = RedisScript(
    """
    local time = redis.call('TIME')
    local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
    local kept = {}
    for i = 3, #ARGV do
      local expires = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i]) or '')
      if expires and expires > now then
        redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[1])), ARGV[i])
        kept[#kept + 1] = 1
      else
        redis.call('ZREM', KEYS[1], ARGV[i])
        kept[#kept + 1] = 0
      end
    end
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return kept
    """)
