public import Cache
public import Configuration

extension CacheConfiguration {
    /// A configuration from the values `config` has under `scope` (one scope per cache, such as
    /// `cache.prices`).
    ///
    /// | Key | Setting |
    /// |---|---|
    /// | `maximumCapacity` (required) | entries (or total weight) kept (≥ 1) |
    /// | `timeToLiveSecs` (required) | seconds an entry is fresh |
    /// | `timeToIdleSecs` | seconds unread before an entry expires, or `none` |
    /// | `serveStaleForSecs` | seconds a stale value is served while it is refreshed |
    /// | `staleIfErrorForSecs` | seconds a stale value is served when refreshing fails |
    /// | `timeToLiveJitter` | fraction of the time to live taken off at random (0…1) |
    /// | `failureTimeToLiveSecs` | seconds a failed fetch is remembered, or `none` |
    /// | `shardCount` | shards (≥ 1) |
    ///
    /// With an `EnvironmentVariablesProvider` and the scope `cache.prices`, `maximumCapacity` is
    /// `CACHE_PRICES_MAXIMUM_CAPACITY`.
    ///
    /// #### Errors
    /// ``KeelConfigurationError`` naming the key when a required value is missing, a value does
    /// not parse, or the settings are out of range together (`CacheConfiguration.validate()`).
    public init(config: ConfigReader, scope: String) throws(KeelConfigurationError) {
        let values = ConfigValues(config.scoped(to: ConfigKey(scope)), scope: scope)
        guard let capacity = try values.count("maximumCapacity", minimum: 1) else {
            throw values.error("maximumCapacity", "is not set: give the most entries the cache keeps")
        }
        guard let timeToLive = try values.seconds("timeToLiveSecs") else {
            throw values.error("timeToLiveSecs", "is not set: give the seconds an entry stays fresh")
        }
        self.init(maximumCapacity: capacity, timeToLive: timeToLive)
        if let value = try values.optionalSeconds("timeToIdleSecs") { timeToIdle = value }
        if let value = try values.seconds("serveStaleForSecs", allowZero: true) { serveStaleFor = value }
        if let value = try values.seconds("staleIfErrorForSecs", allowZero: true) { staleIfErrorFor = value }
        if let value = try values.number("timeToLiveJitter", in: 0...1) { timeToLiveJitter = value }
        if let value = try values.optionalSeconds("failureTimeToLiveSecs") { failureTimeToLive = value }
        if let value = try values.count("shardCount", minimum: 1) { shardCount = value }
        do { try validate() } catch { throw values.invalid(error.message) }
    }
}
