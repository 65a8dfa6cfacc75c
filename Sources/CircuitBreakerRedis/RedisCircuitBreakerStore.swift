public import CircuitBreaker
public import KeelCore
public import Logging
public import Redis
public import ServiceLifecycle

/// Keeps the state of circuit breakers in Redis, so that the breakers of one name in every process
/// of a fleet open together and close together.
///
/// ```swift
/// let store = try RedisCircuitBreakerStore(client: redis)
/// let breaker = try CircuitBreaker(name: "coingecko", store: store)
/// // store.run() in the service group, beside the Redis client
/// ```
///
/// - **Sharing**: when a breaker's own calls open it, the store writes `keel:breaker:{<name>}`
///   with the time it stays open as the key's expiry and publishes the opening on
///   `keel:breaker:states`; when its probes close it, the store deletes the key and publishes the
///   closing. Both go in one round trip, from a task of their own, so the call that caused the
///   change does not wait for Redis.
/// - **Following**: every process's store subscribes to the channel and hands each change to its
///   breakers of that name. A breaker that starts following, and every breaker when the
///   subscription comes back after a loss, reads the key: a breaker of a name that is open in
///   Redis opens for the time the key has left. A closing published while a process was away is
///   not replayed; that process's breaker probes on its own when its open time passes.
/// - **Only durations cross processes**: an opening carries the time it has left, never an
///   instant, so the processes' clocks need not agree.
/// - **Redis unreachable**: every breaker goes on with its own state; a change that could not be
///   shared is counted in ``statistics``, and the outage is logged once.
///
/// Breakers of one name in this process share through the store too: a change reaches them at
/// once, without Redis.
public final class RedisCircuitBreakerStore: CircuitBreakerStore, Service {
    private struct State {
        /// The breakers of each name, by a number of their own.
        var followers: [String: [Int: @Sendable (CircuitBreakerSharedState) -> Bool]] = [:]
        var nextFollower = 0
        var statistics = RedisCircuitBreakerStoreStatistics()
        var unreachable = false
    }

    /// The channel every store publishes state changes on.
    public static var channel: String { "keel:breaker:states" }

    private let client: RedisClient
    private let subscriber: RedisSubscriber
    private let logger: Logger
    private let sender: String
    private let state: Locked<State>

    /// A store on `client`'s Redis.
    ///
    /// - Parameters:
    ///   - client: The Redis client (running in the same service group); the subscription opens
    ///     its own connection to the same server.
    ///   - logger: Where an outage of Redis and its end are logged.
    ///
    /// #### Errors
    /// `RedisError` with code `misuse` when the client's configuration does not validate.
    public init(client: RedisClient, logger: Logger = .silent) throws(RedisError) {
        self.client = client
        self.logger = logger
        sender = String(UInt64.random(in: .min ... .max), radix: 16)
        state = Locked(State())
        // Set once the subscriber exists: it restores the stored openings each time it subscribes.
        let restore = Locked<(@Sendable () -> Void)?>(nil)
        subscriber = try RedisSubscriber(
            configuration: client.pool.source.configuration, channels: [Self.channel],
            whenSubscribed: { restore.withLock { $0 }?() })
        restore.withLock { $0 = { [weak self] in self?.restoreAll() } }
    }

    /// What this process's store did so far.
    public var statistics: RedisCircuitBreakerStoreStatistics { state.withLock { $0.statistics } }

    /// Whether the subscription to other processes' changes is up.
    public var isSubscribed: Bool { subscriber.isSubscribed }

    /// Follows other processes' changes (reconnecting when the subscription drops) until
    /// cancellation or graceful shutdown; then returns.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.subscriber.run() }
            for await message in subscriber.messages { receive(message) }
        }
    }

    // MARK: CircuitBreakerStore

    /// Hands `shared` to this process's other breakers named `name` and, from a task of its own,
    /// writes it to Redis and publishes it.
    public func share(_ shared: CircuitBreakerSharedState, name: String) {
        deliver(shared, to: name)
        let key = Self.key(name)
        let message = RedisCircuitBreakerMessage(sender: sender, name: name, state: shared)
        let write: RedisCommand
        switch shared {
        case .open(let remaining):
            write = RedisCommand("SET", key, "open", "PX", String(max(1, remaining.inNanoseconds / 1_000_000)))
        case .closed:
            write = RedisCommand("DEL", key)
        }
        let publish = RedisCommand(arguments: [Array("PUBLISH".utf8), Array(Self.channel.utf8), message.payload])
        Task {
            do {
                for reply in try await client.pipeline([write, publish]) { _ = try reply.get() }
                answered()
                count { $0.published += 1 }
            } catch {
                failed(error)
            }
        }
    }

    /// Adds `receive` to the breakers of `name` and, from a task of its own, hands it the opening
    /// stored in Redis, if any.
    public func follow(name: String, _ receive: @escaping @Sendable (CircuitBreakerSharedState) -> Bool) {
        state.withLock { state in
            state.followers[name, default: [:]][state.nextFollower] = receive
            state.nextFollower += 1
        }
        Task { await restore([name]) }
    }

    // MARK: Receiving

    private func receive(_ message: RedisMessage) {
        guard let message = RedisCircuitBreakerMessage(payload: message.payload), message.sender != sender else { return }
        if deliver(message.state, to: message.name) { count { $0.received += 1 } }
    }

    /// Calls every follower of `name` with `shared`, outside the lock, and forgets those whose
    /// breaker is gone; returns whether `name` had any.
    @discardableResult
    private func deliver(_ shared: CircuitBreakerSharedState, to name: String) -> Bool {
        guard let followers = state.withLock({ $0.followers[name] }) else { return false }
        let gone = followers.filter { !$0.value(shared) }.keys
        guard !gone.isEmpty else { return true }
        state.withLock { state in
            for follower in gone { state.followers[name]?[follower] = nil }
            if state.followers[name]?.isEmpty == true { state.followers[name] = nil }
        }
        return true
    }

    private func restoreAll() {
        let names = state.withLock { Array($0.followers.keys) }
        guard !names.isEmpty else { return }
        Task { await restore(names) }
    }

    /// Reads the keys of `names` and hands each opening found to its followers.
    private func restore(_ names: [String]) async {
        do {
            let replies = try await client.pipeline(names.map { RedisCommand("PTTL", Self.key($0)) })
            answered()
            count { $0.storedStateReads += 1 }
            for (name, reply) in zip(names, replies) {
                guard let milliseconds = try reply.get().integer, milliseconds > 0 else { continue }
                count { $0.restored += 1 }
                deliver(.open(remaining: .milliseconds(milliseconds)), to: name)
            }
        } catch {
            failed(error)
        }
    }

    // MARK: Redis's health

    private func answered() {
        let recovered = state.withLock { state in
            defer { state.unreachable = false }
            return state.unreachable
        }
        if recovered { logger.notice("Redis answers again; circuit breakers share their state") }
    }

    private func failed(_ error: any Error) {
        let started = state.withLock { state in
            state.statistics.redisFailures += 1
            defer { state.unreachable = true }
            guard !state.unreachable else { return false }
            state.statistics.outages += 1
            return true
        }
        if started {
            logger.warning(
                "Redis is unreachable; circuit breakers go on with the state of this process alone",
                metadata: ["error": "\(error)"])
        }
    }

    private func count(_ change: (inout RedisCircuitBreakerStoreStatistics) -> Void) {
        state.withLock { change(&$0.statistics) }
    }

    /// The key of breaker `name`'s opening, hash-tagged so a cluster keeps it on one node.
    static func key(_ name: String) -> String { "keel:breaker:{\(name)}" }
}
