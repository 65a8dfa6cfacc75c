/// How big a ``Cache`` may grow and how long its values stay good.
///
/// ```swift
/// var configuration = CacheConfiguration<String, Double>(maximumCapacity: 10_000, timeToLive: .seconds(60))
/// configuration.serveStaleFor = .seconds(30)   // stale-while-revalidate
/// configuration.staleIfErrorFor = .seconds(300) // keep serving through an API outage
/// configuration.timeToLiveJitter = 0.1          // ±10 %, so a batch does not expire together
/// ```
public struct CacheConfiguration<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// The most entries (or, with a ``weigher``, the most total weight). At least 1.
    public var maximumCapacity: Int
    /// Each entry's weight against ``maximumCapacity``; `nil` counts every entry as 1.
    public var weigher: (@Sendable (Key, Value) -> Int)?
    /// How long a value is fresh after it is inserted (overridable per entry).
    public var timeToLive: Duration
    /// When set, a value not read for this long expires, even if its time to live is not over.
    /// Each read then moves the entry's deadline, so reads take their shard to themselves rather
    /// than sharing it (they do not scale across cores as other reads do).
    public var timeToIdle: Duration?
    /// After the time to live, how long ``Cache/value(for:tag:orFetch:)`` still returns the stale value
    /// at once while one background fetch refreshes it (stale-while-revalidate). Default none.
    public var serveStaleFor: Duration = .zero
    /// After that, how long the last value is returned by ``Cache/value(for:tag:orFetch:)`` when the
    /// fetch fails (stale-if-error). Default none.
    public var staleIfErrorFor: Duration = .zero
    /// Spreads each time to live by up to ± this fraction (0 to 0.5), so entries inserted together do
    /// not expire together. Default 0.
    public var timeToLiveJitter = 0.0
    /// When set, a failed fetch is remembered for this long: calls in that time throw the same
    /// error without fetching (negative caching). Default `nil`: errors are not cached.
    public var failureTimeToLive: Duration?
    /// How often ``Cache/run()`` removes expired entries. Default 60 seconds.
    public var maintenanceInterval: Duration = .seconds(60)
    /// How many independently locked shards; `nil` picks by capacity (up to 16).
    public var shardCount: Int?

    /// A cache of at most `maximumCapacity` entries that stay fresh for `timeToLive`.
    public init(maximumCapacity: Int, timeToLive: Duration) {
        self.maximumCapacity = maximumCapacity
        self.timeToLive = timeToLive
    }

    /// Throws for the first setting that is out of range; `Cache`'s initialisers call it.
    public func validate() throws(CacheConfigurationError) {
        func fail(_ setting: String, _ value: Any, _ rule: String) throws(CacheConfigurationError) {
            throw CacheConfigurationError(setting: setting, value: "\(value)", message: "\(setting) is \(value) but \(rule)")
        }
        if maximumCapacity < 1 { try fail("maximumCapacity", maximumCapacity, "must be at least 1") }
        if timeToLive <= .zero { try fail("timeToLive", timeToLive, "must be positive") }
        if let timeToIdle, timeToIdle <= .zero { try fail("timeToIdle", timeToIdle, "must be positive") }
        if serveStaleFor < .zero { try fail("serveStaleFor", serveStaleFor, "must not be negative") }
        if staleIfErrorFor < .zero { try fail("staleIfErrorFor", staleIfErrorFor, "must not be negative") }
        if !(0...0.5).contains(timeToLiveJitter) { try fail("timeToLiveJitter", timeToLiveJitter, "must be between 0 and 0.5") }
        if let shardCount, shardCount < 1 { try fail("shardCount", shardCount, "must be at least 1") }
        if maintenanceInterval <= .zero { try fail("maintenanceInterval", maintenanceInterval, "must be positive") }
    }
}
