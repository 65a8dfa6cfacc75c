public import CircuitBreaker
public import Configuration

extension CircuitBreakerConfiguration {
    /// The defaults, overridden by the values `config` has under `scope` (one scope per breaker,
    /// such as `breaker.rpc`).
    ///
    /// | Key | Setting |
    /// |---|---|
    /// | `consecutiveFailures` | failures in a row that open it (≥ 1), or `none` |
    /// | `failureRateThreshold` | failure rate that opens it (0…1), or `none` |
    /// | `windowCalls` | a count window of this many calls |
    /// | `windowSecs` | a time window of this many seconds (instead of `windowCalls`) |
    /// | `minimumCalls` | calls in the window before the rate counts (≥ 1) |
    /// | `slowCallThresholdSecs` | a call slower than this counts as a failure, or `none` |
    /// | `openDurationSecs` | seconds it stays open |
    /// | `openDurationMultiplier` | growth of the open duration on repeated trips (≥ 1) |
    /// | `maxOpenDurationSecs` | the longest open duration |
    /// | `halfOpenMaxCalls` | probes let through half-open (≥ 1) |
    /// | `halfOpenSuccesses` | successful probes that close it (≥ 1) |
    ///
    /// #### Errors
    /// ``KeelConfigurationError`` naming the key when a value does not parse or the settings are
    /// out of range together (`CircuitBreakerConfiguration.validate()`).
    public init(config: ConfigReader, scope: String) throws(KeelConfigurationError) {
        self.init()
        let values = ConfigValues(config.scoped(to: ConfigKey(scope)), scope: scope)
        if values.string("consecutiveFailures")?.lowercased() == "none" {
            consecutiveFailures = nil
        } else if let value = try values.count("consecutiveFailures", minimum: 1) {
            consecutiveFailures = value
        }
        if values.string("failureRateThreshold")?.lowercased() == "none" {
            failureRateThreshold = nil
        } else if let value = try values.number("failureRateThreshold", in: 0...1) {
            failureRateThreshold = value
        }
        let calls = try values.count("windowCalls", minimum: 1)
        let seconds = try values.seconds("windowSecs")
        if calls != nil && seconds != nil {
            throw values.error("windowSecs", "and windowCalls are both set: choose a count window or a time window")
        }
        if let calls { window = .count(calls) }
        if let seconds { window = .time(seconds) }
        if let value = try values.count("minimumCalls", minimum: 1) { minimumCalls = value }
        if let value = try values.optionalSeconds("slowCallThresholdSecs") { slowCallThreshold = value }
        if let value = try values.seconds("openDurationSecs") { openDuration = value }
        if let value = try values.number("openDurationMultiplier", in: 1...1_000) { openDurationMultiplier = value }
        if let value = try values.seconds("maxOpenDurationSecs") { maxOpenDuration = value }
        if let value = try values.count("halfOpenMaxCalls", minimum: 1) { halfOpenMaxCalls = value }
        if let value = try values.count("halfOpenSuccesses", minimum: 1) { halfOpenSuccesses = value }
        do { try validate() } catch { throw values.invalid(error.message) }
    }
}
