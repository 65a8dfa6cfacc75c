/// What a fleet limiter has decided since it was created, and whether Redis answers now.
public struct RedisLimiterStatistics: Sendable, Hashable, CustomStringConvertible {
    /// Calls Redis allowed.
    public var allowed = 0
    /// Requests Redis refused (for a permit limiter, every refused ask of a waiter, so a waiter
    /// that polls five times counts five).
    public var denied = 0
    /// Calls denied from the local cache of Redis's last denial, without asking Redis.
    public var deniedLocally = 0
    /// Redis calls that failed because Redis could not be reached.
    public var failures = 0
    /// How many times the limiter switched to its failure policy.
    public var outages = 0
    /// Decisions the failure policy took while Redis was unreachable.
    public var decidedWithoutRedis = 0
    /// Leases this process holds now (permit limiters; 0 for a token bucket).
    public var leasesHeld = 0
    /// Leases that lapsed before they were renewed (their holder paused longer than the lease, or
    /// Redis was unreachable for that long): for a while the fleet may have run more at once.
    public var leasesLost = 0
    /// Whether the last Redis call was answered (true before the first call).
    public var isRedisReachable = true

    /// Empty statistics.
    public init() {}

    /// The figures on one line.
    public var description: String {
        "allowed \(allowed), denied \(denied) (+\(deniedLocally) locally), Redis failures \(failures), "
            + "outages \(outages), decided without Redis \(decidedWithoutRedis), "
            + "leases held \(leasesHeld), lost \(leasesLost), "
            + (isRedisReachable ? "Redis reachable" : "Redis unreachable")
    }
}
