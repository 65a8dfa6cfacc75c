public import Cache
public import CacheRedis
public import Redis
public import ServiceLifecycle
import Synchronization

/// A cache of an example service: Keel's `Cache` in this process, or, given a Redis client, a
/// `TieredCache` that every process on that Redis shares (one fetch per cold key for the fleet,
/// invalidations reaching every process).
///
/// ```swift
/// let prices = try ExampleCache<Double>(name: "prices", maximumCapacity: 10_000, timeToLive: .seconds(60), redis: redis)
/// let btc = try await prices.value(for: "BTC") { try await coinGecko.price("BTC") }
/// ```
///
/// It counts its lookups and the fetches it ran the same way at both levels, so a fleet's hit rate
/// compares with one process's.
public final class ExampleCache<Value: Codable & Sendable>: Sendable {
    /// Where values are kept.
    public enum Level: Sendable {
        /// In this process's memory.
        case memory(Cache<String, Value, ContinuousClock>)
        /// In memory, then in Redis, shared by the fleet.
        case tiered(TieredCache<Value, ContinuousClock>)
    }

    /// Where values are kept.
    public let level: Level
    private let lookups = Atomic(0)
    private let fetched = Atomic(0)

    /// A cache named `name` of at most `maximumCapacity` values for `timeToLive` each; tiered on
    /// `redis` when given.
    ///
    /// #### Errors
    /// `CacheConfigurationError` for a setting out of range.
    public init(name: String, maximumCapacity: Int, timeToLive: Duration, redis: RedisClient? = nil) throws {
        if let redis {
            level = .tiered(
                try TieredCache(
                    configuration: TieredCacheConfiguration(name: name, maximumCapacity: maximumCapacity, timeToLive: timeToLive),
                    codec: JSONTieredCacheCodec<Value>(), client: redis))
        } else {
            level = .memory(try Cache(configuration: CacheConfiguration(maximumCapacity: maximumCapacity, timeToLive: timeToLive), name: name))
        }
    }

    /// The tiered cache's service (its invalidation subscription), to run beside the Redis
    /// client; `nil` in memory.
    public var service: (any Service)? {
        if case .tiered(let cache) = level { return cache }
        return nil
    }

    /// The value of `key`, or `fetch`'s (once for concurrent callers: in this process, or in the
    /// fleet when tiered).
    public func value(for key: String, orFetch fetch: @escaping @Sendable () async throws -> Value) async throws -> Value {
        lookups.add(1, ordering: .relaxed)
        let counted: @Sendable () async throws -> Value = { [self] in
            self.fetched.add(1, ordering: .relaxed)
            return try await fetch()
        }
        switch level {
        case .memory(let cache): return try await cache.value(for: key, orFetch: counted)
        case .tiered(let cache): return try await cache.value(for: key, orFetch: counted)
        }
    }

    /// Stores `values` (in Redis too when tiered).
    public func insert(contentsOf values: [(String, Value)]) async {
        switch level {
        case .memory(let cache): cache.insert(contentsOf: values)
        case .tiered(let cache): for (key, value) in values { await cache.insert(value, for: key) }
        }
    }

    /// Sends the cache's statistics to its metrics (`keel_cache_…`, and `keel_tiered_cache_…`
    /// when tiered), for `/metrics`.
    public func publishMetrics() {
        switch level {
        case .memory(let cache): cache.publishMetrics()
        case .tiered(let cache): cache.publishMetrics()
        }
    }

    /// Values in this process's memory.
    public var count: Int {
        switch level {
        case .memory(let cache): cache.count
        case .tiered(let cache): cache.local.count
        }
    }

    /// Calls of ``value(for:orFetch:)`` so far.
    public var lookupCount: Int { lookups.load(ordering: .relaxed) }
    /// Fetches this process ran so far.
    public var fetchCount: Int { fetched.load(ordering: .relaxed) }
    /// Drops every value, in Redis and in every process too when tiered: a run that measures
    /// fetches starts from an empty cache.
    public func removeAll() async {
        switch level {
        case .memory(let cache): cache.removeAll()
        case .tiered(let cache): await cache.invalidate(keyPrefix: "")
        }
    }

    /// Where the values are kept, for a start-up line.
    public var placement: String {
        switch level {
        case .memory: "in this process"
        case .tiered: "in memory and in Redis, shared by every process"
        }
    }
}
