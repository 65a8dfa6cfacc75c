/// A message published to a channel a ``RedisSubscriber`` listens to.
public struct RedisMessage: Sendable, Hashable, CustomStringConvertible {
    /// The channel it was published to.
    public let channel: String
    /// What was published, as sent.
    public let payload: [UInt8]

    /// A message of `payload` on `channel`.
    public init(channel: String, payload: [UInt8]) {
        self.channel = channel
        self.payload = payload
    }

    /// The payload as UTF-8 text (invalid bytes replaced).
    public var string: String { String(decoding: payload, as: UTF8.self) }

    /// The channel and the payload's size, not its content.
    public var description: String { "message on \(channel) (\(payload.count) bytes)" }
}
