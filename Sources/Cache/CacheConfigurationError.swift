/// A ``CacheConfiguration`` setting that is out of range, named with its value: thrown by
/// ``CacheConfiguration/validate()`` and by the initialisers that take the configuration.
///
/// ```
/// maximumCapacity is 0 but must be at least 1
/// ```
public struct CacheConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
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
