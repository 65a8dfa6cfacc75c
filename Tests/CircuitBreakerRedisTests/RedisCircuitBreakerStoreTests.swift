import CircuitBreaker
@testable import CircuitBreakerRedis
import KeelTesting
import Redis
import RedisTestSupport
import Testing

struct Outage: Error {}

/// Stores with clients of their own stand for processes of a fleet; they share the throwaway Redis.
@Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
struct RedisCircuitBreakerStoreTests {
    /// Runs `body` with `count` running stores on `redis` (the test configuration when `nil`), each
    /// on a client of its own, shut down after it; each waits until its subscription is up unless
    /// `subscribed` is false.
    static func withStores<Result: Sendable>(
        _ count: Int, redis: RedisConfiguration? = nil, subscribed: Bool = true,
        _ body: ([RedisCircuitBreakerStore]) async throws -> Result
    ) async throws -> Result {
        let configuration = try redis ?? RedisTestSupport.configuration()
        let clients = try (0..<count).map { _ in try RedisClient(configuration: configuration, pool: RedisTestSupport.pool()) }
        let stores = try clients.map { try RedisCircuitBreakerStore(client: $0) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients { group.addTask { try await client.run() } }
            for store in stores { group.addTask { await store.run() } }
            defer { group.cancelAll() }
            if subscribed {
                for store in stores { try await until("subscribed") { store.isSubscribed } }
            }
            let result = try await body(stores)
            for client in clients { await client.shutdown() }
            return result
        }
    }

    static func breaker(_ name: String, clock: ManualClock, store: RedisCircuitBreakerStore) throws -> CircuitBreaker<ManualClock> {
        var configuration = CircuitBreakerConfiguration()
        configuration.consecutiveFailures = 2
        configuration.openDuration = .seconds(10)
        return try CircuitBreaker(name: name, configuration: configuration, clock: clock, store: store)
    }

    /// Waits (bounded) for something another process's store does.
    static func until(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<4_000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        Issue.record("never happened: \(what)")
    }

    static func trip(_ breaker: CircuitBreaker<ManualClock>) async {
        for _ in 0..<2 { try? await breaker.run { throw Outage() } }
    }

    @Test func whenOneProcessOpensTheOthersOpenAndOneProbeClosesThemAll() async throws {
        let name = RedisTestSupport.uniqueName("breaker")
        try await Self.withStores(3) { stores in
            let clock = ManualClock()
            let breakers = try stores.map { try Self.breaker(name, clock: clock, store: $0) }
            await Self.trip(breakers[0])
            try await Self.until("every process opened") { breakers.allSatisfy { $0.state == .open } }
            #expect(breakers[0].statistics.trips == 1)
            #expect(breakers[1].statistics.sharedOpens == 1)
            #expect(breakers[2].statistics.sharedOpens == 1)
            try await Self.until("published") { stores[0].statistics.published == 1 }
            // A breaker counts the opening before its store counts the message.
            try await Self.until("received") { stores[1].statistics.received == 1 }

            // The opening is in Redis with the time it stays open.
            let remaining = try await RedisTestSupport.withClient(RedisTestSupport.configuration()) { client in
                try await client.send(RedisCommand("PTTL", RedisCircuitBreakerStore.key(name))).integer
            }
            #expect((1...10_000).contains(remaining ?? 0))

            clock.advance(by: .seconds(10))
            try await breakers[2].run {}
            try await Self.until("every process closed") { breakers.allSatisfy { $0.state == .closed } }
            #expect(breakers[0].statistics.sharedCloses == 1)
            #expect(breakers[1].statistics.sharedCloses == 1)
            let exists = try await RedisTestSupport.withClient(RedisTestSupport.configuration()) { client in
                try await client.send(RedisCommand("EXISTS", RedisCircuitBreakerStore.key(name))).integer
            }
            #expect(exists == 0)
        }
    }

    @Test func aProcessThatStartsWhileTheNameIsOpenOpensForTheTimeLeft() async throws {
        let name = RedisTestSupport.uniqueName("breaker")
        let clock = ManualClock()
        try await Self.withStores(1) { stores in
            let first = try Self.breaker(name, clock: clock, store: stores[0])
            await Self.trip(first)
            try await Self.until("published") { stores[0].statistics.published == 1 }
        }
        try await Self.withStores(1) { stores in
            let late = try Self.breaker(name, clock: clock, store: stores[0])
            try await Self.until("the stored opening was read") { late.state == .open }
            #expect(stores[0].statistics.restored == 1)
            await #expect(throws: CircuitBreakerError.self) { try await late.run {} }
            // Open for what the key had left: once that has passed, a probe closes it.
            clock.advance(by: .seconds(10))
            try await late.run {}
            #expect(late.state == .closed)
        }
    }

    @Test func anOpeningMissedWhileTheSubscriptionWasDownIsReadWhenItComesBack() async throws {
        let name = RedisTestSupport.uniqueName("breaker")
        try await RedisTestSupport.withClient(RedisTestSupport.configuration()) { admin in
            try await RedisTestSupport.withOwnUser(on: admin) { configuration, user in
                try await Self.withStores(1, redis: configuration) { stores in
                    let breaker = try Self.breaker(name, clock: ManualClock(), store: stores[0])
                    try await Self.until("the first read of the stored state") { stores[0].statistics.storedStateReads == 1 }
                    // Another process's opening that this one never heard of, then a lost subscription.
                    try await admin.send(RedisCommand("SET", RedisCircuitBreakerStore.key(name), "open", "PX", "60000"))
                    #expect(breaker.state == .closed)
                    try await admin.send(RedisCommand("CLIENT", "KILL", "TYPE", "pubsub", "USER", user))
                    try await Self.until("reopened from Redis") { breaker.state == .open }
                    #expect(stores[0].statistics.storedStateReads == 2)
                    #expect(stores[0].statistics.restored == 1)
                }
            }
        }
    }

    @Test func withRedisUnreachableEveryBreakerKeepsItsOwnState() async throws {
        var configuration = try RedisTestSupport.configuration()
        configuration.port = try RedisTestSupport.closedPort()
        configuration.connectTimeout = .milliseconds(200)
        try await Self.withStores(1, redis: configuration, subscribed: false) { stores in
            let clock = ManualClock()
            let breaker = try Self.breaker(RedisTestSupport.uniqueName("breaker"), clock: clock, store: stores[0])
            await Self.trip(breaker)
            #expect(breaker.state == .open)
            try await Self.until("the failed share was counted") { stores[0].statistics.redisFailures >= 2 }
            #expect(stores[0].statistics.outages == 1)
            #expect(stores[0].statistics.published == 0)
            clock.advance(by: .seconds(10))
            try await breaker.run {}
            #expect(breaker.state == .closed)
        }
    }

    @Test func messagesCarryAnyNameAndOthersAreIgnored() {
        let open = RedisCircuitBreakerMessage(sender: "a1", name: "rpc\nwith lines", state: .open(remaining: .milliseconds(1_500)))
        #expect(RedisCircuitBreakerMessage(payload: open.payload) == open)
        let closed = RedisCircuitBreakerMessage(sender: "a1", name: "db", state: .closed)
        #expect(RedisCircuitBreakerMessage(payload: closed.payload) == closed)
        for garbage in ["", "a1\nopen\nrpc", "a1\nopen -5\nrpc", "a1\nclosed\n", "\nclosed\nrpc", "a1\nhalf\nrpc"] {
            #expect(RedisCircuitBreakerMessage(payload: Array(garbage.utf8)) == nil)
        }
    }
}
