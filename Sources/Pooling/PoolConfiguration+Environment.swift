public import KeelCore
public import Logging

extension PoolConfiguration {
    /// The defaults, overridden by the variables set in `environment`.
    ///
    /// | Variable (with the default prefix `DB_`) | Setting | Value |
    /// |---|---|---|
    /// | `DB_MAX_CONNECTIONS` | ``maxConnections`` | whole number ≥ 1 |
    /// | `DB_MIN_CONNECTIONS` | ``minConnections`` | whole number ≥ 0, ≤ max |
    /// | `DB_MAX_OVERFLOW` | ``maxOverflow`` | whole number ≥ 0 |
    /// | `DB_OVERFLOW_IDLE_TIMEOUT_SECS` | ``overflowIdleTimeout`` | seconds > 0, or `none` |
    /// | `DB_CONNECT_TIMEOUT_SECS` | ``connectTimeout`` | seconds > 0 |
    /// | `DB_ACQUIRE_TIMEOUT_SECS` | ``acquireTimeout`` | seconds > 0 |
    /// | `DB_IDLE_TIMEOUT_SECS` | ``idleTimeout`` | seconds > 0, or `none` |
    /// | `DB_MAX_LIFETIME_SECS` | ``maxLifetime`` | seconds > 0, or `none` |
    /// | `DB_VALIDATION` | ``validation`` | `never`, `always`, or seconds of idleness (`0.5`) |
    /// | `DB_LEAK_DETECTION_SECS` | ``leakDetectionThreshold`` | seconds > 0, or `none` |
    ///
    /// Seconds may have a fraction (`2.5`). Unset or empty variables keep the default.
    ///
    /// ```swift
    /// let configuration = try PoolConfiguration(environment: ProcessInfo.processInfo.environment)
    /// ```
    ///
    /// #### Errors
    /// ``PoolConfigurationError`` naming the variable and its value when a value does not parse
    /// (`abc`), is out of range (negative, zero maximum), or the settings disagree (min > max).
    public init(
        environment: [String: String], prefix: String = "DB_", logger: Logger = .silent
    ) throws(PoolConfigurationError) {
        self.init(logger: logger)
        let reader = EnvironmentReader(environment: environment, prefix: prefix)
        if let value = try reader.count("MAX_CONNECTIONS", minimum: 1) { maxConnections = value }
        if let value = try reader.count("MIN_CONNECTIONS", minimum: 0) { minConnections = value }
        if let value = try reader.count("MAX_OVERFLOW", minimum: 0) { maxOverflow = value }
        if let value = try reader.seconds("CONNECT_TIMEOUT_SECS") { connectTimeout = value }
        if let value = try reader.seconds("ACQUIRE_TIMEOUT_SECS") { acquireTimeout = value }
        if let value = try reader.optionalSeconds("IDLE_TIMEOUT_SECS") { idleTimeout = value }
        if let value = try reader.optionalSeconds("OVERFLOW_IDLE_TIMEOUT_SECS") { overflowIdleTimeout = value }
        if let value = try reader.optionalSeconds("MAX_LIFETIME_SECS") { maxLifetime = value }
        if let value = try reader.optionalSeconds("LEAK_DETECTION_SECS") { leakDetectionThreshold = value }
        if let raw = reader.raw("VALIDATION") {
            switch raw.lowercased() {
            case "never": validation = .never
            case "always": validation = .always
            default:
                guard let seconds = Double(raw), seconds.isFinite, seconds >= 0 else {
                    throw reader.error("VALIDATION", raw, "must be never, always, or a number of seconds of idleness")
                }
                validation = .whenIdleFor(.milliseconds(Int64((seconds * 1000).rounded())))
            }
        }
        if minConnections > maxConnections {
            throw reader.error(
                "MIN_CONNECTIONS", String(minConnections),
                "must not exceed \(prefix)MAX_CONNECTIONS (\(maxConnections))")
        }
        try validate()
    }
}

/// Reads and checks `PREFIX_NAME` variables for ``PoolConfiguration/init(environment:prefix:logger:)``.
struct EnvironmentReader {
    let environment: [String: String]
    let prefix: String

    func raw(_ name: String) -> String? {
        guard let value = environment[prefix + name]?.trimmingWhitespace, !value.isEmpty else { return nil }
        return value
    }

    func error(_ name: String, _ value: String, _ rule: String) -> PoolConfigurationError {
        PoolConfigurationError(setting: prefix + name, value: value, message: "\(prefix + name) is \"\(value)\" but \(rule)")
    }

    func count(_ name: String, minimum: Int) throws(PoolConfigurationError) -> Int? {
        guard let raw = raw(name) else { return nil }
        guard let value = Int(raw), value >= minimum else {
            throw error(name, raw, "must be a whole number, at least \(minimum)")
        }
        return value
    }

    func seconds(_ name: String) throws(PoolConfigurationError) -> Duration? {
        guard let raw = raw(name) else { return nil }
        guard let seconds = Double(raw), seconds.isFinite, seconds > 0, seconds < 1e9 else {
            throw error(name, raw, "must be a positive number of seconds")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// Seconds, or `none`/`off` for no limit: `.some(nil)`.
    func optionalSeconds(_ name: String) throws(PoolConfigurationError) -> Duration?? {
        guard let raw = raw(name) else { return nil }
        if ["none", "off"].contains(raw.lowercased()) { return .some(nil) }
        guard let seconds = Double(raw), seconds.isFinite, seconds > 0, seconds < 1e9 else {
            throw error(name, raw, "must be a positive number of seconds, or none")
        }
        return .some(.milliseconds(Int64((seconds * 1000).rounded())))
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
