import Foundation
import KeelTesting
import Pooling
import Redis
import RedisTestSupport
import Testing

@Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
struct RedisClientTests {
    let configuration: RedisConfiguration
    let prefix = "keel-test:\(UUID().uuidString):"

    init() throws {
        configuration = try RedisTestSupport.configuration()
    }

    private func withClient(maxConnections: Int = 4, _ body: (RedisClient) async throws -> Void) async throws {
        var pool = PoolConfiguration()
        pool.maxConnections = maxConnections
        pool.name = "redis-test"
        let client = try RedisClient(configuration: configuration, pool: pool)
        try await withRunning({ try await client.run() }, shutdown: { await client.shutdown() }) { try await body(client) }
    }

    @Test func manyTasksShareThePoolAndEveryIncrementCounts() async throws {
        try await withClient(maxConnections: 4) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<64 {
                    group.addTask {
                        for _ in 0..<50 { try await client.send(RedisCommand("INCR", prefix + "hits")) }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await client.send(RedisCommand("GET", prefix + "hits")).integer == 3_200)
            #expect(client.pool.statistics.open <= 4)
            try await client.send(RedisCommand("DEL", prefix + "hits"))
        }
    }

    @Test func aScriptIsLoadedOnceAndAgainAfterTheServerForgetsIt() async throws {
        try await withClient { client in
            let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
            #expect(script.sha1 == nil)
            #expect(try await client.evaluate(script, keys: [prefix + "n"], arguments: ["2"]) == .integer(2))
            let sha1 = try #require(script.sha1)
            #expect(sha1.count == 40)
            try await client.send(RedisCommand("SCRIPT", "FLUSH"))
            #expect(try await client.evaluate(script, keys: [prefix + "n"], arguments: ["3"]) == .integer(5))
            #expect(script.sha1 == sha1)
            let failing = RedisScript("return redis.call('LPUSH', KEYS[1], 'x')")
            let error = await #expect(throws: RedisError.self) { try await client.evaluate(failing, keys: [prefix + "n"]) }
            #expect(error?.kind == "WRONGTYPE")
            try await client.send(RedisCommand("DEL", prefix + "n"))
        }
    }

    @Test func aConnectionTheServerClosedIsReplacedBeforeTheCommandIsSent() async throws {
        try await withClient(maxConnections: 1) { client in
            let name = "keel-test-\(UUID().uuidString.prefix(8))"
            try await client.send(RedisCommand("CLIENT", "SETNAME", name))
            let killer = try await RedisConnection.connect(configuration: configuration)
            defer { killer.close() }
            let id = try await client.send(RedisCommand("CLIENT", "ID")).integer
            #expect(try await killer.send(RedisCommand("CLIENT", "KILL", "ID", String(try #require(id)))) == .integer(1))
            // The pooled connection is gone; the next command finds out before sending and retries.
            #expect(try await client.send(RedisCommand("PING")) == .simpleString("PONG"))
            let newID = try await client.send(RedisCommand("CLIENT", "ID")).integer
            #expect(newID != id)
        }
    }

    @Test func aCancelledCommandsReplyNeverReachesTheNextCaller() async throws {
        try await withClient(maxConnections: 1) { client in
            let observer = try await RedisConnection.connect(configuration: configuration)
            defer { observer.close() }
            try await client.send(RedisCommand("SET", prefix + "answer", "42"))
            let name = "keel-test-\(UUID().uuidString.prefix(8))"
            try await client.send(RedisCommand("CLIENT", "SETNAME", name))
            let blocked = Task { try await client.send(RedisCommand("BLPOP", prefix + "queue", "5")) }
            while true {
                let clients = try await observer.send(RedisCommand("CLIENT", "LIST")).string ?? ""
                if clients.split(separator: "\n").contains(where: { $0.contains("name=\(name) ") && $0.contains("cmd=blpop") }) { break }
                await Task.yield()
            }
            blocked.cancel()
            await #expect(throws: CancellationError.self) { try await blocked.value }
            try await observer.send(RedisCommand("RPUSH", prefix + "queue", "late"))
            // The pool's only connection was replaced: this GET gets its own reply.
            #expect(try await client.send(RedisCommand("GET", prefix + "answer")).string == "42")
            try await client.send(RedisCommand("DEL", prefix + "answer", prefix + "queue"))
        }
    }
}
