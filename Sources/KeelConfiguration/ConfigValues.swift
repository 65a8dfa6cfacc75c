import Configuration

/// Reads typed values from a `ConfigReader` and refuses values that are present but unusable
/// (a provider of strings, such as the environment, gives `"abc"` for a number): a mistake is an
/// error naming the key, never a silent default.
struct ConfigValues {
    let config: ConfigReader
    /// The reader's scope, for the keys named in errors (`db.`).
    let scope: String

    init(_ config: ConfigReader, scope: String) {
        self.config = config
        self.scope = scope.isEmpty || scope.hasSuffix(".") ? scope : scope + "."
    }

    func error(_ key: String, _ message: String) -> KeelConfigurationError {
        KeelConfigurationError(key: scope + key, message: "\(scope + key) \(message)")
    }

    /// Settings that are out of range together (a configuration type's own check).
    func invalid(_ problem: String) -> KeelConfigurationError {
        let name = scope.hasSuffix(".") ? String(scope.dropLast()) : scope
        return KeelConfigurationError(key: name, message: "\(name): \(problem)")
    }

    /// The value as text when it is there but not of the expected type.
    private func unparsed(_ key: String) -> String? {
        config.string(forKey: ConfigKey(key))
    }

    func string(_ key: String, isSecret: Bool = false) -> String? {
        guard let value = config.string(forKey: ConfigKey(key), isSecret: isSecret), !value.isEmpty else { return nil }
        return value
    }

    func count(_ key: String, minimum: Int) throws(KeelConfigurationError) -> Int? {
        if let value = config.int(forKey: ConfigKey(key)) {
            guard value >= minimum else { throw error(key, "is \(value) but must be at least \(minimum)") }
            return value
        }
        if let raw = unparsed(key), !raw.isEmpty {
            throw error(key, "is \"\(raw)\" but must be a whole number, at least \(minimum)")
        }
        if let value = config.double(forKey: ConfigKey(key)) {
            throw error(key, "is \(value) but must be a whole number, at least \(minimum)")
        }
        if let flag = config.bool(forKey: ConfigKey(key)) {
            throw error(key, "is \(flag) but must be a whole number, at least \(minimum)")
        }
        return nil
    }

    func number(_ key: String, in range: ClosedRange<Double>) throws(KeelConfigurationError) -> Double? {
        guard let value = try anyNumber(key, expected: "a number within \(range)") else { return nil }
        guard range.contains(value) else { throw error(key, "is \(value) but must be within \(range)") }
        return value
    }

    /// A number given as a double, a whole number, or text that parses as one.
    private func anyNumber(_ key: String, expected: String) throws(KeelConfigurationError) -> Double? {
        if let value = config.double(forKey: ConfigKey(key)) { return value }
        if let value = config.int(forKey: ConfigKey(key)) { return Double(value) }
        if let flag = config.bool(forKey: ConfigKey(key)) { throw error(key, "is \(flag) but must be \(expected)") }
        guard let raw = unparsed(key), !raw.isEmpty else { return nil }
        guard let value = Double(raw) else { throw error(key, "is \"\(raw)\" but must be \(expected)") }
        return value
    }

    func flag(_ key: String) throws(KeelConfigurationError) -> Bool? {
        if let value = config.bool(forKey: ConfigKey(key)) { return value }
        if let raw = unparsed(key), !raw.isEmpty { throw error(key, "is \"\(raw)\" but must be true or false") }
        return nil
    }

    /// A positive number of seconds (with a fraction).
    func seconds(_ key: String, allowZero: Bool = false) throws(KeelConfigurationError) -> Duration? {
        let expected = "a \(allowZero ? "non-negative" : "positive") number of seconds"
        guard let value = try anyNumber(key, expected: expected) else { return nil }
        return try duration(key, value, allowZero: allowZero)
    }

    /// Seconds, or `none`/`off` for no limit: `.some(nil)`.
    func optionalSeconds(_ key: String) throws(KeelConfigurationError) -> Duration?? {
        if let raw = unparsed(key), ["none", "off"].contains(raw.lowercased()) { return .some(nil) }
        guard let value = try anyNumber(key, expected: "a positive number of seconds, or none") else { return nil }
        return .some(try duration(key, value, allowZero: false))
    }

    /// One of `choices`' keys (case-insensitive).
    func choice<Value>(_ key: String, _ choices: [String: Value]) throws(KeelConfigurationError) -> Value? {
        guard let raw = string(key) else { return nil }
        guard let value = choices[raw.lowercased()] else {
            throw error(key, "is \"\(raw)\" but must be one of \(choices.keys.sorted().joined(separator: ", "))")
        }
        return value
    }

    private func duration(_ key: String, _ seconds: Double, allowZero: Bool) throws(KeelConfigurationError) -> Duration {
        guard seconds.isFinite, allowZero ? seconds >= 0 : seconds > 0, seconds < 1e9 else {
            throw error(key, "is \(seconds) but must be a \(allowZero ? "non-negative" : "positive") number of seconds")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
