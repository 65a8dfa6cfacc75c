/// The local half of a fleet limiter, as a value type kept under the limiter's lock: whether to
/// ask Redis at all (a cached denial, or Redis unreachable and no probe due), what Redis's answers
/// and failures change, and the statistics. The shell does the Redis calls and the logging.
struct RedisLimiterStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// What a call does before Redis is asked.
    enum Plan: Equatable {
        /// Ask Redis.
        case ask
        /// Redis denied this cost until then; do not ask before.
        case deniedUntil(Instant)
        /// Redis is unreachable and no probe is due: follow the failure policy.
        case followPolicy
    }

    /// How often a call is let through to Redis while it is unreachable.
    let probeInterval: Duration
    private(set) var statistics = RedisLimiterStatistics()
    /// Redis's last denial: no call of at least `deniedCost` passes before `deniedUntil`.
    private var deniedUntil: Instant?
    private var deniedCost = Int.max
    /// While Redis is unreachable: when the next call may try it again.
    private var nextProbe: Instant?

    init(probeInterval: Duration) {
        self.probeInterval = probeInterval
    }

    /// Whether a call of `cost` at `now` should ask Redis.
    mutating func plan(cost: Int, now: Instant) -> Plan {
        if let deniedUntil, now < deniedUntil, cost >= deniedCost {
            statistics.deniedLocally += 1
            return .deniedUntil(deniedUntil)
        }
        if let nextProbe {
            if now < nextProbe { return .followPolicy }
            // This call probes; the others follow the policy until it answers or the next probe.
            self.nextProbe = now.advanced(by: probeInterval)
        }
        return .ask
    }

    /// Redis answered a call of `cost` at `now`: allowed (`wait` nil) or denied for `wait`.
    /// Returns whether this answer ends an outage.
    mutating func answered(cost: Int, wait: Duration?, now: Instant) -> Bool {
        if let wait {
            statistics.denied += 1
            deniedUntil = now.advanced(by: wait)
            deniedCost = cost
        } else {
            statistics.allowed += 1
        }
        return endOutage()
    }

    /// Redis refused a call without a time to come back (every permit is held). Returns whether
    /// this answer ends an outage.
    mutating func refused(now: Instant) -> Bool {
        statistics.denied += 1
        return endOutage()
    }

    private mutating func endOutage() -> Bool {
        guard nextProbe != nil else { return false }
        nextProbe = nil
        statistics.isRedisReachable = true
        return true
    }

    /// A Redis call failed because Redis could not be reached. Returns whether this starts an
    /// outage (the policy takes over from now on).
    mutating func failed(now: Instant) -> Bool {
        statistics.failures += 1
        let starts = nextProbe == nil
        nextProbe = now.advanced(by: probeInterval)
        if starts {
            statistics.outages += 1
            statistics.isRedisReachable = false
        }
        return starts
    }

    /// The failure policy decided a call.
    mutating func decidedWithoutRedis() {
        statistics.decidedWithoutRedis += 1
    }
}
