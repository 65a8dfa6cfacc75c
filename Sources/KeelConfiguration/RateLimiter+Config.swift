public import Configuration
public import RateLimit

extension RateLimiter {
    /// A limiter whose limits are the values `config` has under `scope` (one scope per limiter,
    /// such as `limits.coingecko`), named after the scope in its metrics.
    ///
    /// | Key | Setting |
    /// |---|---|
    /// | `maxConcurrent` (required) | operations at once (≥ 1) |
    /// | `minIntervalSecs` | least seconds between two starts (≥ 0); default 0 |
    ///
    /// #### Errors
    /// ``KeelConfigurationError`` naming the key when `maxConcurrent` is missing or a value does
    /// not parse or is out of range.
    public convenience init(config: ConfigReader, scope: String, clock: LimiterClock) throws(KeelConfigurationError) {
        let values = ConfigValues(config.scoped(to: ConfigKey(scope)), scope: scope)
        guard let maxConcurrent = try values.count("maxConcurrent", minimum: 1) else {
            throw values.error("maxConcurrent", "is not set: give the most operations at once")
        }
        let minInterval = try values.seconds("minIntervalSecs", allowZero: true) ?? .zero
        self.init(maxConcurrent: maxConcurrent, minInterval: minInterval, clock: clock, name: scope)
    }
}
