/// What a ``Cache`` has done since it was created.
public struct CacheStatistics: Sendable, Hashable {
    /// Reads that found a fresh value.
    public var hits = 0
    /// Reads that found no fresh value (a stale value served is also counted in ``staleServed``).
    public var misses = 0
    /// Stale values returned (stale-while-revalidate or stale-if-error).
    public var staleServed = 0
    /// Callers that waited for a fetch another caller had started, instead of fetching.
    public var coalescedWaits = 0
    /// Fetches that returned a value.
    public var loadsSucceeded = 0
    /// Fetches that threw.
    public var loadsFailed = 0
    /// Time spent in fetches.
    public var totalLoadTime: Duration = .zero
    /// Entries evicted to stay within capacity.
    public var evictedBySize = 0
    /// Entries removed because they expired.
    public var evictedExpired = 0
    /// Entries removed by a call (remove, remove all, invalidation).
    public var evictedExplicitly = 0
    /// Entries whose value was replaced by an insert.
    public var replaced = 0
    /// Entries now.
    public var count = 0
    /// Fetches running now (each shared by every caller waiting for its key).
    public var loadsInFlight = 0

    /// Hits divided by reads (0 when there were none).
    public var hitRatio: Double { hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses) }

    /// Empty statistics.
    public init() {}
}
