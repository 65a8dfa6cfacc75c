import Foundation
import KeelTesting
import Logging
import RateLimit
import Redis
import RedisRateLimit
import RedisTestSupport
import Testing

@Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
struct RedisTokenBucketTests {
    @Test func aBurstPassesThenTheNextCallWaitsOneEmissionInterval() async throws {
        try await RedisTestSupport.withClient(RedisTestSupport.configuration()) { client in
            let name = RedisTestSupport.uniqueName("burst")
            let bucket = try RedisTokenBucket(name: name, rate: 1, per: .seconds(60), burst: 3, client: client)
            let started = ContinuousClock.now
            for _ in 0..<3 { #expect(try await bucket.tryAcquire() == nil) }
            let wait = try #require(try await bucket.tryAcquire())
            // The bounds allow for the time the calls took (seconds under ThreadSanitizer on a busy machine).
            let elapsed = started.duration(to: .now)
            #expect(wait > .seconds(60) - elapsed - .milliseconds(100) && wait <= .seconds(60))
            // The key holds the arrival time three intervals ahead and expires when it passes.
            let key = "keel:ratelimit:{\(name)}"
            let ttl = try #require(try await client.send(RedisCommand("PTTL", key)).integer)
            let elapsedMilliseconds = Int(started.duration(to: .now).components.seconds * 1_000) + Int(started.duration(to: .now).components.attoseconds / 1_000_000_000_000_000)
            #expect(ttl > 180_000 - elapsedMilliseconds - 100 && ttl <= 180_001)
            let stored = try #require(try await client.send(RedisCommand("GET", key)).string)
            #expect(Int64(stored) != nil)
            #expect(bucket.statistics.allowed == 3)
            #expect(bucket.statistics.denied == 1)
            try await client.send(RedisCommand("DEL", key))
        }
    }

    @Test func aDeniedCallIsAnsweredLocallyUntilItsRetryAfter() async throws {
        try await RedisTestSupport.withClient(RedisTestSupport.configuration()) { client in
            let name = RedisTestSupport.uniqueName("cache")
            let clock = ManualClock()
            let bucket = try RedisTokenBucket(
                name: name, rate: 1, per: .seconds(60), burst: 1, client: client, clock: clock)
            #expect(try await bucket.tryAcquire() == nil)
            let first = try #require(try await bucket.tryAcquire())
            // With the key gone Redis would allow the next call: the denial must come from the cache.
            let key = "keel:ratelimit:{\(name)}"
            try await client.send(RedisCommand("DEL", key))
            clock.advance(by: .seconds(10))
            let second = try #require(try await bucket.tryAcquire())
            #expect(second == first - .seconds(10))
            #expect(bucket.statistics.deniedLocally == 1)
            #expect(bucket.statistics.denied == 1)
            clock.advance(by: second)
            #expect(try await bucket.tryAcquire() == nil)
            try await client.send(RedisCommand("DEL", key))
        }
    }

    @Test func processesThatNameTheSameLimiterShareOneQuota() async throws {
        let configuration = try RedisTestSupport.configuration()
        try await RedisTestSupport.withClient(configuration) { first in
            try await RedisTestSupport.withClient(configuration) { second in
                let name = RedisTestSupport.uniqueName("shared")
                let a = try RedisTokenBucket(name: name, rate: 1, per: .seconds(60), burst: 10, client: first)
                let b = try RedisTokenBucket(name: name, rate: 1, per: .seconds(60), burst: 10, client: second)
                let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
                    for bucket in [a, b] {
                        for _ in 0..<16 {
                            group.addTask { try await bucket.tryAcquire() == nil ? 1 : 0 }
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(admitted == 10)
                #expect(a.statistics.allowed + b.statistics.allowed == 10)
                try await first.send(RedisCommand("DEL", "keel:ratelimit:{\(name)}"))
            }
        }
    }

    @Test func aCostIsTakenAtOnceAndACostAboveTheBurstIsRefusedBeforeAnythingIsSent() async throws {
        try await RedisTestSupport.withClient(RedisTestSupport.configuration()) { client in
            let name = RedisTestSupport.uniqueName("cost")
            let bucket = try RedisTokenBucket(name: name, rate: 1, per: .seconds(60), burst: 5, client: client)
            #expect(try await bucket.tryAcquire(cost: 4) == nil)
            let wait = try #require(try await bucket.tryAcquire(cost: 2))
            #expect(wait > .seconds(59) && wait <= .seconds(60))
            #expect(try await bucket.tryAcquire(cost: 1) == nil)
            let error = await #expect(throws: RedisRateLimitError.self) { try await bucket.tryAcquire(cost: 6) }
            #expect(error?.code == .invalidArgument)
            #expect(bucket.statistics.allowed == 2)
            try await client.send(RedisCommand("DEL", "keel:ratelimit:{\(name)}"))
        }
    }

    @Test func settingsOutOfRangeAreRefusedWithTheirNames() async throws {
        let client = try RedisClient(configuration: RedisConfiguration(host: "127.0.0.1"))
        let refusal = RedisTestSupport.invalidArgumentMessage
        #expect(refusal { _ = try RedisTokenBucket(name: "x", rate: 0, per: .seconds(1), burst: 1, client: client) }?.contains("rate") == true)
        #expect(refusal { _ = try RedisTokenBucket(name: "x", rate: 1, per: .seconds(1), burst: 0, client: client) }?.contains("burst") == true)
        #expect(refusal { _ = try RedisTokenBucket(name: "", rate: 1, per: .seconds(1), burst: 1, client: client) }?.contains("name") == true)
        #expect(refusal { _ = try RedisTokenBucket(name: "x", rate: 10_000_000, per: .seconds(1), burst: 1, client: client) }?.contains("1 µs") == true)
        #expect(
            refusal {
                _ = try RedisTokenBucket(name: "x", rate: 1, per: .seconds(1), burst: 1, client: client, failurePolicy: .localFallback(share: 0))
            }?.contains("share") == true)
    }

    @Test func whileRedisIsUnreachableEachPolicyDecidesAndTheSwitchIsLoggedOnce() async throws {
        var configuration = try RedisTestSupport.configuration()
        configuration.port = try RedisTestSupport.closedPort()
        let redisPassword = try #require(configuration.password)
        try await RedisTestSupport.withClient(configuration) { client in
            let handler = RecordingLogHandler()
            let logger = Logger(label: "test") { _ in handler }
            let clock = ManualClock()
            let closed = try RedisTokenBucket(
                name: "closed", rate: 10, per: .seconds(1), burst: 4, client: client, clock: clock, logger: logger)
            for _ in 0..<3 {
                let error = await #expect(throws: RedisRateLimitError.self) { try await closed.tryAcquire() }
                #expect(error?.code == .unavailable)
                #expect(error.map { "\($0)".contains(redisPassword) } == false)
            }
            #expect(closed.statistics.failures == 1)
            #expect(closed.statistics.outages == 1)
            #expect(closed.statistics.decidedWithoutRedis == 3)
            #expect(closed.statistics.isRedisReachable == false)
            #expect(handler.recorded.count == 1)
            #expect(handler.recorded.first?.hasPrefix("warning Redis is unreachable") == true)
            #expect(handler.recorded.allSatisfy { !$0.contains(redisPassword) })

            // After the probe interval one call tries Redis again.
            clock.advance(by: .seconds(1))
            await #expect(throws: RedisRateLimitError.self) { try await closed.tryAcquire() }
            #expect(closed.statistics.failures == 2)
            #expect(handler.recorded.count == 1)

            let open = try RedisTokenBucket(
                name: "open", rate: 10, per: .seconds(1), burst: 4, client: client, failurePolicy: .failOpen, clock: clock)
            for _ in 0..<10 { #expect(try await open.tryAcquire() == nil) }

            // A quarter of burst 4 and of 10 per second: one now, the next 400 ms later.
            let local = try RedisTokenBucket(
                name: "local", rate: 10, per: .seconds(1), burst: 4, client: client,
                failurePolicy: .localFallback(share: 0.25), clock: clock)
            #expect(try await local.tryAcquire() == nil)
            #expect(try await local.tryAcquire() == .milliseconds(400))
            clock.advance(by: .milliseconds(400))
            #expect(try await local.tryAcquire() == nil)
        }
    }

    @Test func whenRedisAnswersAgainTheLimiterUsesItAndSaysSo() async throws {
        let admin = try RedisTestSupport.configuration()
        let user = RedisTestSupport.uniqueName("user")
        let password = UUID().uuidString
        try await RedisTestSupport.withClient(admin) { adminClient in
            try await adminClient.send(RedisCommand("ACL", "SETUSER", user, "on", ">\(password)", "~*", "&*", "+@all"))
            var limited = admin
            limited.username = user
            limited.password = password
            try await RedisTestSupport.withClient(limited, maxConnections: 1) { client in
                let handler = RecordingLogHandler()
                let clock = ManualClock()
                let name = RedisTestSupport.uniqueName("recovery")
                let bucket = try RedisTokenBucket(
                    name: name, rate: 1, per: .seconds(60), burst: 100, client: client, failurePolicy: .failOpen,
                    clock: clock, logger: Logger(label: "test") { _ in handler })
                #expect(try await bucket.tryAcquire() == nil)
                #expect(bucket.statistics.allowed == 1)

                // The user is switched off and its connection killed: logins fail.
                try await adminClient.send(RedisCommand("ACL", "SETUSER", user, "off"))
                try await adminClient.send(RedisCommand("CLIENT", "KILL", "USER", user))
                #expect(try await bucket.tryAcquire() == nil)
                #expect(bucket.statistics.isRedisReachable == false)
                #expect(bucket.statistics.allowed == 1)

                try await adminClient.send(RedisCommand("ACL", "SETUSER", user, "on"))
                // Probes until the pool's connect back-off (a few milliseconds) has passed.
                var probes = 0
                while !bucket.statistics.isRedisReachable && probes < 1_000 {
                    clock.advance(by: .seconds(1))
                    _ = try await bucket.tryAcquire()
                    probes += 1
                    if !bucket.statistics.isRedisReachable { try await Task.sleep(for: .milliseconds(2)) }
                }
                #expect(bucket.statistics.isRedisReachable)
                #expect(bucket.statistics.allowed == 2)
                #expect(handler.recorded.count == 2)
                #expect(handler.recorded.last?.hasPrefix("notice Redis answers again") == true)
                try await adminClient.send(RedisCommand("DEL", "keel:ratelimit:{\(name)}"))
            }
            try await adminClient.send(RedisCommand("ACL", "DELUSER", user))
        }
    }

    @Test func aCancelledWaitTakesNothing() async throws {
        try await RedisTestSupport.withClient(RedisTestSupport.configuration()) { client in
            let name = RedisTestSupport.uniqueName("cancel")
            let clock = ManualClock()
            let bucket = try RedisTokenBucket(name: name, rate: 1, per: .seconds(60), burst: 1, client: client, clock: clock)
            #expect(try await bucket.tryAcquire() == nil)
            let waiter = Task { try await bucket.acquire() }
            #expect(await clock.waitForSleepers(1))
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(bucket.statistics.allowed == 1)
            try await client.send(RedisCommand("DEL", "keel:ratelimit:{\(name)}"))
        }
    }

    @Test func eitherBucketServesCodeWrittenForRateLimiting() async throws {
        func takeTwo(_ limit: some RateLimiting) async throws -> [Duration?] {
            [try await limit.tryAcquire(cost: 1), try await limit.tryAcquire(cost: 1)]
        }
        try await RedisTestSupport.withClient(RedisTestSupport.configuration()) { client in
            let name = RedisTestSupport.uniqueName("protocol")
            let fleet = try RedisTokenBucket(name: name, rate: 1, per: .seconds(60), burst: 1, client: client)
            let local = TokenBucket(rate: 1, per: .seconds(60), burst: 1)
            let fleetAnswers = try await takeTwo(fleet)
            let localAnswers = try await takeTwo(local)
            #expect(fleetAnswers[0] == nil && fleetAnswers[1] != nil)
            #expect(localAnswers[0] == nil && localAnswers[1] != nil)
            try await client.send(RedisCommand("DEL", "keel:ratelimit:{\(name)}"))
        }
    }
}
