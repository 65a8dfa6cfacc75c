import Batching
import Cache
import CacheRedis
import CircuitBreaker
import KeelTesting
import Redis
import RedisTestSupport
import SQLBackendTestSupport
import SQLCore
import Testing
import Tracing

/// The spans and span events of the modules other than the SQL backends.
@Suite struct ModuleSpanTests {
    struct Unavailable: Error {}

    @Test func aCacheLoadSaysWhetherItWasAHitOrAMiss() async throws {
        let cache = try Cache<String, Int, ContinuousClock>(configuration: CacheConfiguration(maximumCapacity: 10, timeToLive: .seconds(60)), name: "prices")
        let (_, spans) = try await SpanRecorder.record {
            _ = try await cache.value(for: "bitcoin") { 1 }
            _ = try await cache.value(for: "bitcoin") { 2 }
        }
        let loads = spans.filter { $0.operationName == "cache.load" }
        #expect(loads.map { $0.attributes.text("keel.cache.result") } == ["miss", "hit"])
        #expect(loads.allSatisfy { $0.attributes.text("keel.cache.name") == "prices" })
    }

    @Test(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
    func aTieredCacheLoadSaysWhichLevelAnswered() async throws {
        let name = RedisTestSupport.uniqueName("tiered-span")
        try await RedisTestSupport.withClient(try RedisTestSupport.configuration()) { client in
            let settings = TieredCacheConfiguration(name: name, maximumCapacity: 10, timeToLive: .seconds(60))
            // Two processes' caches: the second finds in Redis what the first fetched.
            let first = try TieredCache(configuration: settings, codec: JSONTieredCacheCodec<Int>(), client: client)
            let second = try TieredCache(configuration: settings, codec: JSONTieredCacheCodec<Int>(), client: client)
            let (values, spans) = try await SpanRecorder.record {
                [try await first.value(for: "bitcoin") { 1 }, try await first.value(for: "bitcoin") { 2 },
                 try await second.value(for: "bitcoin") { 3 }]
            }
            _ = try await client.send(RedisCommand("DEL", "keel:cache:\(name):k:bitcoin"))
            #expect(values == [1, 1, 1])
            let loads = spans.filter { $0.operationName == "cache.load" }
            #expect(loads.map { $0.attributes.text("keel.cache.result") } == ["miss", "hit", "shared_hit"])
            #expect(loads.allSatisfy { $0.attributes.text("keel.cache.name") == name })
        }
    }

    @Test func eachRetryAttemptIsASpanAndAFailedOneCarriesItsError() async throws {
        let (value, spans) = try await SpanRecorder.record {
            var calls = 0
            return try await retry(RetryPolicy(maxAttempts: 3, initialDelay: .zero, jitter: .none), clock: ManualClock()) {
                calls += 1
                if calls < 3 { throw Unavailable() }
                return calls
            }
        }
        #expect(value == 3)
        let attempts = spans.filter { $0.operationName == "retry.attempt" }
        #expect(attempts.map { $0.attributes.text("keel.retry.attempt") } == ["1", "2", "3"])
        #expect(attempts.map(\.errors.count) == [1, 1, 0])
    }

    @Test func aBreakerTransitionIsAnEventOnTheCallersSpan() async throws {
        var configuration = CircuitBreakerConfiguration()
        configuration.consecutiveFailures = 1
        let breaker = try CircuitBreaker(name: "coingecko", configuration: configuration, clock: ManualClock())
        let (_, spans) = try await SpanRecorder.record("request") {
            await #expect(throws: Unavailable.self) { try await breaker.run { throw Unavailable() } }
        }
        let root = try #require(spans.last)
        let event = try #require(root.events.first { $0.name == "circuit_breaker.transition" })
        #expect(event.attributes.text("keel.breaker.name") == "coingecko")
        #expect(event.attributes.text("keel.breaker.from") == "closed")
        #expect(event.attributes.text("keel.breaker.to") == "open")
    }

    @Test(arguments: Backend.available)
    func anUpsertIsASpanWithAnEventPerChunkAndItsStatementsInside(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            try await database.execute("CREATE TABLE \(identifier: table) (id BIGINT PRIMARY KEY, name TEXT NOT NULL)")
            var upsert = Upsert(table: table, columns: ["id", "name"], conflictColumns: ["id"])
            upsert.chunkSize = 10
            let (report, spans) = try await SpanRecorder.record {
                try await upsert.run((1...25).map { [.int64(Int64($0)), .text("name-\($0)")] }, on: database)
            }
            #expect(report.chunks == 3)
            let span = try #require(spans.first { $0.operationName == "keel.upsert" })
            #expect(span.attributes.text("db.collection.name") == table)
            #expect(span.attributes.text("keel.upsert.rows") == "25")
            let chunks = span.events.filter { $0.name == "chunk" }
            #expect(chunks.map { $0.attributes.text("keel.upsert.rows") } == ["10", "10", "5"])
            #expect(chunks.allSatisfy { $0.attributes.text("keel.upsert.failed") == "false" })
            #expect(spans.contains { $0.operationName == "db.query" && $0.parentSpanID == span.spanID })
        }
    }

    @Test(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
    func aRedisCommandIsASpanWithItsNameAndNoArguments() async throws {
        let key = RedisTestSupport.uniqueName("span")
        let secret = "value-never-shown"
        try await RedisTestSupport.withClient(try RedisTestSupport.configuration()) { client in
            let (_, spans) = try await SpanRecorder.record {
                try await client.send(RedisCommand("SET", key, secret, "EX", "60"))
                _ = try await client.pipeline([RedisCommand("GET", key), RedisCommand("DEL", key)])
            }
            let commands = spans.filter { $0.operationName == "redis.command" }
            #expect(commands.map { $0.attributes.text("db.operation.name") } == ["SET", "PIPELINE"])
            #expect(commands.allSatisfy { $0.attributes.text("db.system.name") == "redis" && $0.kind == .client })
            #expect(commands.last?.attributes.text("db.operation.batch.size") == "2")
            #expect(!spans.contains { "\($0.attributes)".contains(secret) || "\($0.attributes)".contains(key) })
        }
    }
}
