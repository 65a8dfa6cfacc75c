public import Cache

/// A ``TieredCache``'s name, sizes and times.
///
/// ```swift
/// var configuration = TieredCacheConfiguration(name: "market", maximumCapacity: 10_000, timeToLive: .seconds(60))
/// configuration.maximumLocalAge = .seconds(2)   // how stale a process's copy may be at worst
/// configuration.serveStaleFor = .seconds(30)    // stale-while-revalidate, from Redis
/// ```
public struct TieredCacheConfiguration: Sendable {
    /// The cache's name: processes that use the same name on the same Redis share its values and
    /// invalidations. It is part of every key (`keel:cache:<name>:…`) and of the channel.
    public var name: String
    /// The most entries each process keeps in memory. At least 1.
    public var maximumCapacity: Int
    /// How long a fetched value is fresh, in Redis and (at most ``maximumLocalAge``) in memory.
    public var timeToLive: Duration
    /// The oldest a process's in-memory copy gets before it is read from Redis again. It bounds
    /// how stale a copy can be when an invalidation was missed (the subscription was down).
    /// Default 5 seconds.
    public var maximumLocalAge: Duration = .seconds(5)
    /// After the time to live, how long the value in Redis is still returned while one fetch in
    /// the fleet refreshes it (stale-while-revalidate). Default none.
    public var serveStaleFor: Duration = .zero
    /// After that, how long the value in Redis is returned when the fetch fails (stale-if-error).
    /// Default none.
    public var staleIfErrorFor: Duration = .zero
    /// How long a fetch's lock in Redis lasts: if the fetching process dies, another fetches
    /// after this. Default 10 seconds.
    public var fetchLockTimeout: Duration = .seconds(10)
    /// How long a process waits for another process's fetch before fetching itself. Default 10
    /// seconds.
    public var fetchLockWait: Duration = .seconds(10)
    /// The longest pause between two looks for the value while waiting for another process's
    /// fetch (the pauses grow from 1 ms to this). Default 50 ms.
    public var pollInterval: Duration = .milliseconds(50)
    /// While Redis is unreachable, how often it is tried again (other calls use memory only).
    /// Default 1 second.
    public var probeInterval: Duration = .seconds(1)

    /// A cache named `name` of at most `maximumCapacity` entries per process, fresh for `timeToLive`.
    public init(name: String, maximumCapacity: Int, timeToLive: Duration) {
        self.name = name
        self.maximumCapacity = maximumCapacity
        self.timeToLive = timeToLive
    }

    /// Throws for the first setting that is out of range; ``TieredCache``'s initialiser calls it.
    ///
    /// #### Errors
    /// `CacheConfigurationError` naming the setting.
    public func validate() throws(CacheConfigurationError) {
        func fail(_ setting: String, _ value: Any, _ rule: String) throws(CacheConfigurationError) {
            throw CacheConfigurationError(setting: setting, value: "\(value)", message: "\(setting) is \(value) but \(rule)")
        }
        if name.isEmpty { try fail("name", "\"\"", "must not be empty") }
        if maximumCapacity < 1 { try fail("maximumCapacity", maximumCapacity, "must be at least 1") }
        if timeToLive < .milliseconds(1) { try fail("timeToLive", timeToLive, "must be at least 1 ms") }
        if maximumLocalAge <= .zero { try fail("maximumLocalAge", maximumLocalAge, "must be positive") }
        if serveStaleFor < .zero { try fail("serveStaleFor", serveStaleFor, "must not be negative") }
        if staleIfErrorFor < .zero { try fail("staleIfErrorFor", staleIfErrorFor, "must not be negative") }
        if fetchLockTimeout < .milliseconds(1) { try fail("fetchLockTimeout", fetchLockTimeout, "must be at least 1 ms") }
        if fetchLockWait < .zero { try fail("fetchLockWait", fetchLockWait, "must not be negative") }
        if pollInterval <= .zero { try fail("pollInterval", pollInterval, "must be positive") }
        if probeInterval <= .zero { try fail("probeInterval", probeInterval, "must be positive") }
    }
}
