import ButlerKit
import ExampleSupport
import Foundation
import Redis
import Testing

/// The examples' caches shared by a fleet on one Redis: bot-fleet in four processes against one,
/// and two crypto-butlers whose price caches are one cache.
@Suite(.serialized, .enabled(if: ExampleDatabases.redisURL != nil || ExampleDatabases.isCI, "set TEST_REDIS_URL (scripts/test.sh does)"))
struct FleetCacheTests {
    /// The bot-fleet executable, next to this test bundle in the build folder.
    static func botFleet() throws -> URL {
        let url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("bot-fleet")
        try #require(FileManager.default.isExecutableFile(atPath: url.path), "build bot-fleet first: swift build --package-path Examples")
        return url
    }

    /// Runs bot-fleet with `arguments` (on SQLite) and returns the figures of its `fleet:` line.
    static func runBotFleet(_ arguments: [String], redisURL: String?) async throws -> [String: Double] {
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = nil
        environment["REDIS_URL"] = redisURL
        let (status, text) = try await ProgramRun.run(try botFleet(), arguments: arguments, environment: environment)
        #expect(status == 0, "bot-fleet exited with \(status): \(text)")
        let line = try #require(text.split(separator: "\n").last { $0.hasPrefix("fleet: ") }, "no fleet line in: \(text)")
        var figures: [String: Double] = [:]
        for field in line.dropFirst("fleet: ".count).split(separator: " ") {
            let parts = field.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Double(parts[1]) { figures[String(parts[0])] = value }
        }
        return figures
    }

    @Test func fourBotFleetProcessesOnOneRedisFetchNoMoreThanOneProcess() async throws {
        let redisURL = try #require(ExampleDatabases.redisURL, "CI=true but TEST_REDIS_URL is not set: run scripts/test.sh")
        let common = [
            "--bots", "40", "--cycles", "5", "--duration", "60", "--cycle-interval-ms", "20",
            "--exchange-min-ms", "20", "--exchange-max-ms", "60",
        ]
        let one = try await Self.runBotFleet(common, redisURL: nil)
        let four = try await Self.runBotFleet(common + ["--processes", "4"], redisURL: redisURL)
        print("bot-fleet, 1 process in memory: \(one)")
        print("bot-fleet, 4 processes on one Redis: \(four)")
        #expect(one["cycles"] == 200 && four["cycles"] == 200)
        #expect(four["lookups"] == one["lookups"])
        let oneFetches = try #require(one["market-fetches"])
        let fourFetches = try #require(four["market-fetches"])
        #expect(oneFetches == 30)  // 10 symbols × 3 kinds of market data
        #expect(fourFetches <= 1.1 * oneFetches)
        #expect(try #require(four["hit-rate"]) >= (try #require(one["hit-rate"])))
    }

    @Test func twoButlersOnOneRedisShareTheirPriceCache() async throws {
        let redisURL = try #require(ExampleDatabases.redisURL, "CI=true but TEST_REDIS_URL is not set: run scripts/test.sh")
        let redis = try RedisClient(configuration: RedisConfiguration(url: redisURL))
        let store = try await ExampleDatabases.open(.sqlite)
        try await store.run { database in
            var configuration = try ButlerConfiguration(environment: ["BUTLER_TOKENS": "alice-token:alice"])
            configuration.jobsInterval = nil
            configuration.apiLatency = .milliseconds(1)
            configuration.coinGeckoInterval = .milliseconds(5)
            let authentication = try await ButlerAuthentication(configuration.authentication)
            let first = try Butler(database: database, configuration: configuration, authentication: authentication, redis: redis)
            let second = try Butler(database: database, configuration: configuration, authentication: authentication, redis: redis)
            try await first.store.migrate()
            try await first.store.reset()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await redis.run() }
                for service in first.cacheServices + second.cacheServices { group.addTask { try await service.run() } }
                defer { group.cancelAll() }
                await first.prices.removeAll()
                try await first.jobs.collectPrices()
                // The second butler never ran the job: its prices come from Redis, not the database.
                let coin = try #require(SimulatedCoinGecko.coins.first)
                let price = try await second.prices.value(for: coin) { throw CancellationError() }
                #expect(price > 0)
                #expect(second.prices.fetchCount == 0)
                #expect(first.prices.placement == second.prices.placement)
                await redis.shutdown()
            }
        }
    }
}
