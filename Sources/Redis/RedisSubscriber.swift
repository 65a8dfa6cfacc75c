public import KeelCore
public import ServiceLifecycle

/// A connection subscribed to channels, kept subscribed: when the connection is lost it
/// reconnects (with back-off) and subscribes again, for as long as it runs.
///
/// ```swift
/// let subscriber = try RedisSubscriber(configuration: configuration, channels: ["prices"])
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { await subscriber.run() }         // or add it to a ServiceGroup
///     for await message in subscriber.messages {
///         print(message.channel, message.string)
///     }
/// }
/// ```
///
/// Redis does not keep messages for a subscriber: what is published while it reconnects is not
/// delivered. ``messages`` keeps the newest `bufferingNewest` messages for a slow reader. The
/// connection has its own socket on the socket reactor (not one of a ``RedisClient``'s pool) and
/// waits for messages without a command timeout. ``messages`` finishes when ``run()`` ends.
public final class RedisSubscriber: Service {
    private struct State {
        var isSubscribed = false
        var reconnects = 0
        var delivered = 0
        var random: SplitMix64
    }

    /// The channels.
    public let channels: [String]
    /// The messages of every channel, in the order they arrived.
    public let messages: AsyncStream<RedisMessage>
    private let continuation: AsyncStream<RedisMessage>.Continuation
    private let configuration: RedisConfiguration
    private let reconnectDelay: Backoff
    private let whenSubscribed: @Sendable () -> Void
    private let state: Locked<State>

    /// A subscriber to `channels` on the server `configuration` names.
    ///
    /// - Parameters:
    ///   - configuration: The server; its connect and command timeouts bound the connect and the
    ///     `SUBSCRIBE`, never the wait for messages.
    ///   - channels: The channels; at least one.
    ///   - bufferingNewest: How many unread messages ``messages`` keeps (the oldest go first).
    ///   - reconnectDelay: The wait before each reconnection attempt after a failure.
    ///   - whenSubscribed: Runs each time the server has confirmed every channel on a new
    ///     connection, before that connection's first message is delivered: where a user of the
    ///     channels learns that messages published while it was away were lost.
    ///
    /// #### Errors
    /// ``RedisError`` with code ``RedisError/Code/misuse`` for an empty channel list or a
    /// configuration that does not validate.
    public init(
        configuration: RedisConfiguration, channels: [String], bufferingNewest: Int = 1_000,
        reconnectDelay: Backoff = Backoff(initialDelay: .milliseconds(50), maximumDelay: .seconds(5), jitter: .equal),
        whenSubscribed: @escaping @Sendable () -> Void = {}
    ) throws(RedisError) {
        try configuration.validate()
        guard !channels.isEmpty else { throw RedisError(code: .misuse, message: "a subscriber needs at least one channel") }
        guard bufferingNewest >= 1 else {
            throw RedisError(code: .misuse, message: "bufferingNewest must be at least 1, not \(bufferingNewest)")
        }
        self.configuration = configuration
        self.channels = channels
        self.reconnectDelay = reconnectDelay
        self.whenSubscribed = whenSubscribed
        (messages, continuation) = AsyncStream.makeStream(of: RedisMessage.self, bufferingPolicy: .bufferingNewest(bufferingNewest))
        state = Locked(State(random: SplitMix64(seed: UInt64.random(in: .min ... .max))))
    }

    /// Whether the server has confirmed every channel on the current connection.
    public var isSubscribed: Bool { state.withLock { $0.isSubscribed } }
    /// How many times the connection was lost (or could not be made) and made again.
    public var reconnects: Int { state.withLock { $0.reconnects } }
    /// Messages delivered to ``messages`` so far.
    public var delivered: Int { state.withLock { $0.delivered } }

    /// Connects, subscribes and delivers messages, reconnecting after every failure, until the
    /// task is cancelled or the service group shuts down; then finishes ``messages``.
    public func run() async {
        defer { continuation.finish() }
        let logger = configuration.logger
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                do {
                    try await self.listen { failures = 0 }
                } catch is CancellationError {
                    return
                } catch {
                    failures += 1
                    let delay = self.state.withLock { state in
                        state.isSubscribed = false
                        state.reconnects += 1
                        return self.reconnectDelay.delay(afterFailure: failures, random: state.random.nextUnit())
                    }
                    if failures == 1 {
                        logger.warning(
                            "Redis subscriber lost its connection; reconnecting",
                            metadata: ["channels": "\(self.channels.count)", "error": "\(error)"])
                    }
                    try? await Task.sleep(for: delay)
                }
            }
        }
    }

    /// One connection: subscribes, then delivers until it fails. `subscribed` runs when the
    /// server has confirmed every channel.
    private func listen(subscribed: () -> Void) async throws {
        let connection = try await RedisConnection.connect(configuration: configuration)
        defer { connection.close() }
        try await connection.write([RedisCommand("SUBSCRIBE", channels)])
        var confirmed = 0
        while true {
            let reply = try await connection.nextPushedReply().get()
            guard let items = reply.array, items.count == 3, let kind = items[0].string else { continue }
            switch kind.lowercased() {
            case "subscribe":
                confirmed += 1
                if confirmed == channels.count {
                    state.withLock { $0.isSubscribed = true }
                    subscribed()
                    whenSubscribed()
                    configuration.logger.debug("Redis subscriber subscribed", metadata: ["channels": "\(channels.count)"])
                }
            case "message":
                if let channel = items[1].string, let payload = items[2].bytes {
                    state.withLock { $0.delivered += 1 }
                    continuation.yield(RedisMessage(channel: channel, payload: payload))
                }
            default:
                break
            }
        }
    }
}
