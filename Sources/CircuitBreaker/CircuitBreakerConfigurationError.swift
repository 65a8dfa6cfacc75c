/// A ``CircuitBreakerConfiguration`` setting that is out of range, named with its value: thrown by
/// ``CircuitBreakerConfiguration/validate()`` and by the initialisers that take the configuration.
///
/// ```
/// failureRateThreshold is 1.5 but must be in 0 < rate <= 1
/// ```
public struct CircuitBreakerConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The setting's property name.
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
