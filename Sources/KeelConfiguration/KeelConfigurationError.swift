/// A configuration value that does not parse or is out of range, named by its key.
///
/// ```swift
/// do { _ = try PoolConfiguration(config: config.scoped(to: "db")) }
/// catch let error as KeelConfigurationError { print(error) }   // db.maxConnections is "abc" but ...
/// ```
public struct KeelConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The full key of the value (`db.maxConnections`), or of the setting whose combination with
    /// others is invalid.
    public let key: String
    /// What is wrong and what to give instead; never contains a secret's value.
    public let message: String

    /// Creates an error.
    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
