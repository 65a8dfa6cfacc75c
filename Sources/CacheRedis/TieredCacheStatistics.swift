/// What a ``TieredCache`` did in this process since it was made. The in-memory level's own
/// figures (hits, misses, evictions) are ``TieredCache/local``'s statistics.
public struct TieredCacheStatistics: Sendable, Hashable, CustomStringConvertible {
    /// Fresh values found in Redis.
    public var sharedHits = 0
    /// Stale values returned from Redis while one fetch refreshed them.
    public var sharedStaleServed = 0
    /// Values in Redis past their stale window returned because the fetch failed.
    public var sharedLastGoodServed = 0
    /// Lookups that found nothing usable in Redis.
    public var sharedMisses = 0
    /// Values in Redis that could not be read: another codec version, or bytes that did not decode.
    public var undecodable = 0
    /// Fetches this process ran.
    public var fetches = 0
    /// Calls that waited for another process's fetch.
    public var fetchLockWaits = 0
    /// Waits for another process's fetch that ran past ``TieredCacheConfiguration/fetchLockWait``.
    public var fetchLockTimeouts = 0
    /// Redis operations that failed (Redis unreachable, or an error reply).
    public var redisFailures = 0
    /// Times Redis became unreachable (each logged once).
    public var outages = 0
    /// Calls served from memory and the fetch alone because Redis was unreachable.
    public var decidedWithoutRedis = 0
    /// Invalidations this process published.
    public var invalidationsPublished = 0
    /// Invalidations of other processes applied here.
    public var invalidationsReceived = 0
    /// Times the in-memory level was cleared because the subscription came back (invalidations
    /// published meanwhile were missed).
    public var localClears = 0

    /// Statistics with every count at zero.
    public init() {}

    /// The counts, in one line.
    public var description: String {
        "shared hits \(sharedHits), stale \(sharedStaleServed), last good \(sharedLastGoodServed), misses \(sharedMisses), "
            + "undecodable \(undecodable); fetches \(fetches), lock waits \(fetchLockWaits), lock timeouts \(fetchLockTimeouts); "
            + "Redis failures \(redisFailures), outages \(outages), without Redis \(decidedWithoutRedis); "
            + "invalidations published \(invalidationsPublished), received \(invalidationsReceived), local clears \(localClears)"
    }
}
