import Foundation
import KeelCore
import KeelTesting
import Redis
import RedisTestSupport
import Testing

@Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
struct RedisConnectionTests {
    let configuration: RedisConfiguration
    /// Keys of this test run start with it.
    let prefix = "keel-test:\(UUID().uuidString):"

    init() throws {
        configuration = try RedisTestSupport.configuration()
    }

    @Test func repliesOfEveryKindComeBack() async throws {
        let connection = try await RedisConnection.connect(configuration: configuration)
        defer { connection.close() }
        #expect(try await connection.send(RedisCommand("PING")) == .simpleString("PONG"))
        #expect(try await connection.send(RedisCommand("SET", prefix + "a", "hello")) == .simpleString("OK"))
        #expect(try await connection.send(RedisCommand("GET", prefix + "a")).string == "hello")
        #expect(try await connection.send(RedisCommand("GET", prefix + "missing")) == .null)
        #expect(try await connection.send(RedisCommand("INCRBY", prefix + "n", "41")) == .integer(41))
        try await connection.send(RedisCommand("RPUSH", prefix + "list", "x", "y", ""))
        #expect(try await connection.send(RedisCommand("LRANGE", prefix + "list", "0", "-1"))
            == .array([.bulkString(Array("x".utf8)), .bulkString(Array("y".utf8)), .bulkString([])]))
        try await connection.send(RedisCommand("DEL", prefix + "a", prefix + "n", prefix + "list"))
    }

    @Test func binaryValuesAndLargeValuesSurviveTheRoundTrip() async throws {
        let connection = try await RedisConnection.connect(configuration: configuration)
        defer { connection.close() }
        var generator = SplitMix64(seed: 7)
        let large = (0..<3_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let key = Array((prefix + "blob").utf8)
        try await connection.send(RedisCommand(arguments: [Array("SET".utf8), key, large]))
        let back = try await connection.send(RedisCommand(arguments: [Array("GET".utf8), key]))
        #expect(back.bytes == large)
        try await connection.send(RedisCommand(arguments: [Array("DEL".utf8), key]))
    }

    @Test func anErrorReplyCarriesTheServersKindAndTheConnectionStaysUsable() async throws {
        let connection = try await RedisConnection.connect(configuration: configuration)
        defer { connection.close() }
        try await connection.send(RedisCommand("SET", prefix + "text", "x"))
        let error = await #expect(throws: RedisError.self) { try await connection.send(RedisCommand("LPUSH", prefix + "text", "y")) }
        #expect(error?.code == .server)
        #expect(error?.kind == "WRONGTYPE")
        #expect(!connection.isBroken)
        #expect(try await connection.send(RedisCommand("GET", prefix + "text")).string == "x")
        try await connection.send(RedisCommand("DEL", prefix + "text"))
    }

    @Test func aPipelineSendsManyCommandsAndAnErrorFailsOnlyItsOwn() async throws {
        let connection = try await RedisConnection.connect(configuration: configuration)
        defer { connection.close() }
        var commands = (0..<2_000).map { RedisCommand("INCR", prefix + "counter\($0 % 10)") }
        commands.insert(RedisCommand("NOSUCHCOMMAND"), at: 1_000)
        let replies = try await connection.pipeline(commands)
        #expect(replies.count == 2_001)
        #expect(try replies[0].get() == .integer(1))
        #expect(try replies[2_000].get() == .integer(200))
        #expect(throws: RedisError.self) { try replies[1_000].get() }
        let counters = try await connection.send(RedisCommand("MGET", (0..<10).map { prefix + "counter\($0)" }))
        #expect(counters.array?.compactMap(\.integer) == Array(repeating: 200, count: 10))
        try await connection.send(RedisCommand("DEL", (0..<10).map { prefix + "counter\($0)" }))
    }

    @Test func aWrongPasswordIsRefusedWithoutShowingIt() async throws {
        var wrong = configuration
        wrong.password = "not-the-password-42"
        let error = await #expect(throws: RedisError.self) { try await RedisConnection.connect(configuration: wrong) }
        #expect(error?.code == .server)
        #expect(error?.kind == "WRONGPASS")
        #expect(error.map { !$0.description.contains("not-the-password-42") } == true)
    }

    @Test func anUnreachableServerFailsWithAConnectionError() async throws {
        var closedPort = configuration
        closedPort.port = 1
        let error = await #expect(throws: RedisError.self) { try await RedisConnection.connect(configuration: closedPort) }
        #expect(error?.code == .connection)
    }

    @Test func selectChoosesTheDatabase() async throws {
        var third = configuration
        third.database = 3
        let inThird = try await RedisConnection.connect(configuration: third)
        let inDefault = try await RedisConnection.connect(configuration: configuration)
        defer {
            inThird.close()
            inDefault.close()
        }
        try await inThird.send(RedisCommand("SET", prefix + "where", "third"))
        #expect(try await inDefault.send(RedisCommand("GET", prefix + "where")) == .null)
        #expect(try await inThird.send(RedisCommand("GET", prefix + "where")).string == "third")
        try await inThird.send(RedisCommand("DEL", prefix + "where"))
    }

    @Test func aCommandPastItsTimeoutFailsAndItsConnectionIsNotReused() async throws {
        var short = configuration
        short.commandTimeout = .milliseconds(200)
        let connection = try await RedisConnection.connect(configuration: short)
        defer { connection.close() }
        let started = ContinuousClock.now
        // BLPOP on an empty list waits 60 s on the server: the client's limit ends it first. The
        // bound is loose because a run that starts every suite at once on 2 cores can hold the
        // timer's task back for seconds; the timeout code already says which limit ended it.
        let error = await #expect(throws: RedisError.self) {
            try await connection.send(RedisCommand("BLPOP", prefix + "empty", "60"))
        }
        #expect(error?.code == .timeout)
        #expect(ContinuousClock.now - started < TestDatabaseEnvironment.timingBound(.seconds(15)))
        #expect(connection.isBroken)
        await #expect(throws: RedisError.self) { try await connection.send(RedisCommand("PING")) }
    }

    @Test func cancellingATaskEndsItsCommandAndLeavesNoReplyForTheNext() async throws {
        let connection = try await RedisConnection.connect(configuration: configuration)
        defer { connection.close() }
        let observer = try await RedisConnection.connect(configuration: configuration)
        defer { observer.close() }
        let name = try await nameConnection(connection)
        let blocked = Task { try await connection.send(RedisCommand("BLPOP", prefix + "wake", "5")) }
        try await waitUntilBlocked(name, observer: observer)
        blocked.cancel()
        await #expect(throws: CancellationError.self) { try await blocked.value }
        #expect(connection.isBroken)
        // Closed, as the pool closes a broken connection: once the server has dropped it, the
        // value that would have answered the cancelled BLPOP stays in the list.
        connection.close()
        while try await observer.send(RedisCommand("CLIENT", "LIST")).string?.contains("name=\(name) ") == true {
            await Task.yield()
        }
        try await observer.send(RedisCommand("RPUSH", prefix + "wake", "late"))
        #expect(try await observer.send(RedisCommand("LPOP", prefix + "wake")).string == "late")
    }

    @Test func twoTasksOnOneConnectionAreRefused() async throws {
        let connection = try await RedisConnection.connect(configuration: configuration)
        defer { connection.close() }
        let observer = try await RedisConnection.connect(configuration: configuration)
        defer { observer.close() }
        let name = try await nameConnection(connection)
        let blocked = Task { try await connection.send(RedisCommand("BLPOP", prefix + "hold", "5")) }
        try await waitUntilBlocked(name, observer: observer)
        let error = await #expect(throws: RedisError.self) { try await connection.send(RedisCommand("PING")) }
        #expect(error?.code == .misuse)
        try await observer.send(RedisCommand("RPUSH", prefix + "hold", "v"))
        #expect(try await blocked.value.array?.last?.string == "v")
    }

    /// Gives `connection` a client name of its own, so the server's client list can show it.
    private func nameConnection(_ connection: RedisConnection) async throws -> String {
        let name = "keel-test-\(UUID().uuidString.prefix(8))"
        try await connection.send(RedisCommand("CLIENT", "SETNAME", name))
        return name
    }

    /// Returns once the server lists the client `name` as running BLPOP.
    private func waitUntilBlocked(_ name: String, observer: RedisConnection) async throws {
        while true {
            let clients = try await observer.send(RedisCommand("CLIENT", "LIST")).string ?? ""
            if clients.split(separator: "\n").contains(where: { $0.contains("name=\(name) ") && $0.contains("cmd=blpop") }) { return }
            await Task.yield()
        }
    }
}
