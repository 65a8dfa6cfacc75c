public import Configuration
public import Logging
public import Pooling

extension PoolConfiguration {
    /// The defaults, overridden by the values `config` has under `scope`.
    ///
    /// The keys are those of `PoolConfiguration.init(environment:prefix:logger:)` in
    /// camel case, so that with an `EnvironmentVariablesProvider` and the default scope `db` the
    /// same `DB_…` variables are read:
    ///
    /// | Key (under `db`) | Environment variable | Setting |
    /// |---|---|---|
    /// | `maxConnections` | `DB_MAX_CONNECTIONS` | `maxConnections` (≥ 1) |
    /// | `minConnections` | `DB_MIN_CONNECTIONS` | `minConnections` (≥ 0, ≤ max) |
    /// | `maxOverflow` | `DB_MAX_OVERFLOW` | `maxOverflow` (≥ 0) |
    /// | `overflowIdleTimeoutSecs` | `DB_OVERFLOW_IDLE_TIMEOUT_SECS` | seconds, or `none` |
    /// | `connectTimeoutSecs` | `DB_CONNECT_TIMEOUT_SECS` | seconds |
    /// | `acquireTimeoutSecs` | `DB_ACQUIRE_TIMEOUT_SECS` | seconds |
    /// | `idleTimeoutSecs` | `DB_IDLE_TIMEOUT_SECS` | seconds, or `none` |
    /// | `maxLifetimeSecs` | `DB_MAX_LIFETIME_SECS` | seconds, or `none` |
    /// | `validation` | `DB_VALIDATION` | `never`, `always`, or seconds of idleness |
    /// | `leakDetectionSecs` | `DB_LEAK_DETECTION_SECS` | seconds, or `none` |
    /// | `name` | `DB_NAME` | the pool's name in metrics and logs |
    ///
    /// ```swift
    /// let config = ConfigReader(providers: [EnvironmentVariablesProvider(), InMemoryProvider(values: ["db.maxConnections": 20])])
    /// let pool = try PoolConfiguration(config: config, logger: logger)
    /// ```
    ///
    /// #### Errors
    /// ``KeelConfigurationError`` naming the key when a value does not parse or is out of range,
    /// or the settings disagree (min above max).
    public init(config: ConfigReader, scope: String = "db", logger: Logger) throws(KeelConfigurationError) {
        self.init(logger: logger)
        let values = ConfigValues(config.scoped(to: ConfigKey(scope)), scope: scope)
        if let value = try values.count("maxConnections", minimum: 1) { maxConnections = value }
        if let value = try values.count("minConnections", minimum: 0) { minConnections = value }
        if let value = try values.count("maxOverflow", minimum: 0) { maxOverflow = value }
        if let value = try values.optionalSeconds("overflowIdleTimeoutSecs") { overflowIdleTimeout = value }
        if let value = try values.seconds("connectTimeoutSecs") { connectTimeout = value }
        if let value = try values.seconds("acquireTimeoutSecs") { acquireTimeout = value }
        if let value = try values.optionalSeconds("idleTimeoutSecs") { idleTimeout = value }
        if let value = try values.optionalSeconds("maxLifetimeSecs") { maxLifetime = value }
        if let value = try values.optionalSeconds("leakDetectionSecs") { leakDetectionThreshold = value }
        if let value = values.string("name") { name = value }
        if let raw = values.string("validation") {
            switch raw.lowercased() {
            case "never": validation = .never
            case "always": validation = .always
            default:
                guard let seconds = Double(raw), seconds.isFinite, seconds >= 0 else {
                    throw values.error("validation", "is \"\(raw)\" but must be never, always, or a number of seconds of idleness")
                }
                validation = .whenIdleFor(.milliseconds(Int64((seconds * 1000).rounded())))
            }
        }
        do {
            try validate()
        } catch {
            throw KeelConfigurationError(key: values.scope + error.setting, message: values.scope + error.message)
        }
    }
}
