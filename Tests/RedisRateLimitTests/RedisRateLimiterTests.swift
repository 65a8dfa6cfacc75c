import Foundation
import KeelCore
import KeelTesting
import Logging
import RateLimit
import Redis
import RedisRateLimit
import RedisTestSupport
import Testing

@Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
struct RedisRateLimiterTests {
    static func keys(_ name: String) -> [String] {
        ["holders", "queue", "deadlines", "state"].map { "keel:permits:{\(name)}:\($0)" }
    }

    static func cleanUp(_ name: String, on client: RedisClient) async throws {
        try await client.send(RedisCommand("DEL", keys(name)))
    }

    @Test func twoProcessesNeverHoldMoreThanTheLimitAndEveryCallRuns() async throws {
        let configuration = try RedisTestSupport.configuration()
        try await RedisTestSupport.withClient(configuration, maxConnections: 8) { first in
            try await RedisTestSupport.withClient(configuration, maxConnections: 8) { second in
                let name = RedisTestSupport.uniqueName("semaphore")
                let counter = "keel-test:\(name):holders"
                let maxSeen = "keel-test:\(name):max"
                // The holders count themselves in Redis and keep the highest count seen.
                let enter = RedisScript(
                    """
                    local n = redis.call('INCR', KEYS[1])
                    if n > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], n) end
                    return n
                    """)
                let limits = try [first, second].map { client in
                    try RedisConcurrencyLimit(name: name, maxHolders: 3, client: client, pollInterval: .milliseconds(5))
                }
                let runs = try await withThrowingTaskGroup(of: Int.self) { group in
                    for limit in limits {
                        for _ in 0..<12 {
                            group.addTask {
                                try await limit.withPermit {
                                    let client = limit === limits[0] ? first : second
                                    _ = try await client.evaluate(enter, keys: [counter, maxSeen])
                                    try await client.send(RedisCommand("DECR", counter))
                                    return 1
                                }
                            }
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(runs == 24)
                let highest = try #require(try await first.send(RedisCommand("GET", maxSeen)).integer)
                #expect(highest >= 1 && highest <= 3)
                #expect(try await first.send(RedisCommand("ZCARD", Self.keys(name)[0])).integer == 0)
                #expect(try await first.send(RedisCommand("ZCARD", Self.keys(name)[1])).integer == 0)
                #expect(limits.allSatisfy { $0.statistics.leasesHeld == 0 })
                #expect(limits.map(\.statistics.allowed).reduce(0, +) == 24)
                try await first.send(RedisCommand("DEL", counter, maxSeen))
                try await Self.cleanUp(name, on: first)
            }
        }
    }

    @Test func aStartWaitsForTheIntervalAndACancelledWaiterLeavesTheQueue() async throws {
        try await RedisTestSupport.withClient(RedisTestSupport.configuration()) { client in
            let name = RedisTestSupport.uniqueName("interval")
            let clock = ManualClock()
            let limiter = try RedisRateLimiter(
                name: name, limits: PermitLimits(maxConcurrent: 2, minInterval: .seconds(60)), client: client, clock: clock)
            let started = ContinuousClock.now
            #expect(try await limiter.withPermit { 1 } == 1)
            // The renewal task wakes once more, finds no lease and ends.
            #expect(await clock.waitForSleepers(1))
            clock.advance(by: .seconds(4))
            var yields = 0
            while clock.sleeperCount > 0 && yields < 1_000_000 { await Task.yield(); yields += 1 }
            let waiter = Task { try await limiter.withPermit { 2 } }
            #expect(await clock.waitForSleepers(1))
            // It sleeps out what is left of the interval by Redis's clock: at most 60 s from the start,
            // less the real time Redis saw pass between the two starts (at most what passed here).
            let deadline = try #require(clock.nextDeadline)
            let realTime = started.duration(to: .now)
            #expect(deadline.offset >= .seconds(64) - realTime - .milliseconds(1) && deadline.offset <= .seconds(64))
            #expect(try await client.send(RedisCommand("ZCARD", Self.keys(name)[1])).integer == 1)
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(try await client.send(RedisCommand("ZCARD", Self.keys(name)[1])).integer == 0)
            #expect(limiter.statistics.allowed == 1)
            try await Self.cleanUp(name, on: client)
        }
    }

    @Test func aHolderThatStopsRenewingLosesItsLeaseAndTheFleetGetsThePermitBack() async throws {
        let configuration = try RedisTestSupport.configuration()
        try await RedisTestSupport.withClient(configuration) { first in
            try await RedisTestSupport.withClient(configuration) { second in
                let name = RedisTestSupport.uniqueName("lapse")
                // The holder's clock never moves, so it never renews: as if its process had frozen.
                let frozen = ManualClock()
                let holder = try RedisConcurrencyLimit(
                    name: name, maxHolders: 1, client: first, lease: .milliseconds(100), clock: frozen)
                let other = try RedisConcurrencyLimit(
                    name: name, maxHolders: 1, client: second, lease: .milliseconds(100), pollInterval: .milliseconds(5))
                let release = AsyncStream.makeStream(of: Void.self)
                let holding = Task {
                    try await holder.withPermit { for await _ in release.stream { break } }
                }
                while holder.statistics.leasesHeld == 0 { await Task.yield() }
                // The other process gets the permit once the lease has lapsed in Redis.
                #expect(try await other.withPermit { 7 } == 7)
                #expect(holder.statistics.leasesHeld == 1)
                // At its next renewal the holder learns that its lease is gone.
                frozen.advance(by: .milliseconds(34))
                var yields = 0
                while holder.statistics.leasesLost == 0 && yields < 1_000_000 { await Task.yield(); yields += 1 }
                #expect(holder.statistics.leasesLost == 1)
                #expect(holder.statistics.leasesHeld == 0)
                release.continuation.finish()
                try await holding.value
                try await Self.cleanUp(name, on: first)
            }
        }
    }

    @Test func aHeldLeaseIsRenewed() async throws {
        try await RedisTestSupport.withClient(RedisTestSupport.configuration()) { client in
            let name = RedisTestSupport.uniqueName("renew")
            let clock = ManualClock()
            let limit = try RedisConcurrencyLimit(name: name, maxHolders: 1, client: client, lease: .seconds(30), clock: clock)
            let holders = Self.keys(name)[0]
            try await limit.withPermit {
                let members = try #require(try await client.send(RedisCommand("ZRANGE", holders, "0", "-1", "WITHSCORES")).array)
                let before = try #require(members.last?.string.flatMap(Double.init))
                #expect(await clock.waitForSleepers(1))
                clock.advance(by: .seconds(10))
                var renewed = before
                var attempts = 0
                while renewed == before && attempts < 10_000 {
                    let now = try await client.send(RedisCommand("ZSCORE", holders, members[0].string ?? ""))
                    renewed = now.string.flatMap(Double.init) ?? before
                    attempts += 1
                }
                #expect(renewed > before)
            }
            #expect(try await client.send(RedisCommand("EXISTS", holders)).integer == 0)
        }
    }

    @Test func whileRedisIsUnreachableEachPolicyDecides() async throws {
        var configuration = try RedisTestSupport.configuration()
        configuration.port = try RedisTestSupport.closedPort()
        try await RedisTestSupport.withClient(configuration) { client in
            let closed = try RedisRateLimiter(name: "closed", limits: .coinGecko, client: client)
            let error = await #expect(throws: RedisRateLimitError.self) { try await closed.withPermit { 1 } }
            #expect(error?.code == .unavailable)

            let open = try RedisRateLimiter(name: "open", limits: .coinGecko, client: client, failurePolicy: .failOpen)
            #expect(try await open.withPermit { 2 } == 2)
            #expect(open.statistics.decidedWithoutRedis == 1)

            // Half of 4 at once: the third waits for a release.
            let clock = ManualClock()
            let local = try RedisConcurrencyLimit(
                name: "local", maxHolders: 4, client: client, failurePolicy: .localFallback(share: 0.5), clock: clock)
            let gate = AsyncStream.makeStream(of: Void.self)
            let running = Counter()
            let tasks = (0..<3).map { _ in
                Task {
                    try await local.withPermit {
                        running.increment()
                        for await _ in gate.stream { break }
                    }
                }
            }
            var yields = 0
            while running.value < 2 && yields < 1_000_000 { await Task.yield(); yields += 1 }
            for _ in 0..<10_000 { await Task.yield() }
            #expect(running.value == 2)
            gate.continuation.finish()
            for task in tasks { try await task.value }
            #expect(running.value == 3)
            #expect(local.statistics.outages == 1)
        }
    }

    @Test func settingsOutOfRangeAreRefused() async throws {
        let client = try RedisClient(configuration: RedisConfiguration(host: "127.0.0.1"))
        let message = RedisTestSupport.invalidArgumentMessage
        #expect(message { _ = try RedisConcurrencyLimit(name: "x", maxHolders: 0, client: client) }?.contains("maxConcurrent") == true)
        #expect(message { _ = try RedisConcurrencyLimit(name: "x", maxHolders: 1, client: client, lease: .milliseconds(1)) }?.contains("lease") == true)
        #expect(
            message { _ = try RedisRateLimiter(name: "x", limits: .okx, client: client, failurePolicy: .localFallback(share: 2)) }?
                .contains("share") == true)
        #expect(message { _ = try RedisRateLimiter(name: "", limits: .okx, client: client) }?.contains("name") == true)
    }

    @Test func eitherLimiterServesCodeWrittenForPermitLimiting() async throws {
        func run(_ limiter: some PermitLimiting) async throws -> Int {
            try await limiter.withPermit(isolation: #isolation) { 5 }
        }
        try await RedisTestSupport.withClient(RedisTestSupport.configuration()) { client in
            let name = RedisTestSupport.uniqueName("protocol")
            #expect(try await run(RedisRateLimiter(name: name, limits: .okx, client: client)) == 5)
            #expect(try await run(RateLimiter(limits: .okx)) == 5)
            try await Self.cleanUp(name, on: client)
        }
    }
}

/// A counter tasks share.
final class Counter: Sendable {
    private let count = Locked(0)

    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
