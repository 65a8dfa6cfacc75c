/// A pool setting that is out of range, named with its value.
///
/// ```
/// DB_MAX_CONNECTIONS is "abc" but must be a whole number, at least 1
/// minConnections is 20 but must not exceed maxConnections (10)
/// ```
public struct PoolConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The setting: a property name (`maxConnections`) or an environment variable (`DB_MAX_CONNECTIONS`).
    public let setting: String
    /// The value that was given.
    public let value: String
    /// A sentence naming the setting, its value and the rule it breaks.
    public let message: String

    /// Creates an error.
    public init(setting: String, value: String, message: String) {
        self.setting = setting
        self.value = value
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
