import ButlerKit
import ExampleSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Redis
import SaasKit
import Testing

/// Per-user and per-address request limits: a 429 with `Retry-After` past the burst, each caller
/// with its own bucket, shared by the fleet on Redis.
@Suite(.serialized) struct RequestLimitTests {
    static var logger: Logger {
        var logger = Logger(label: "limit-test")
        logger.logLevel = .warning
        return logger
    }

    /// Statuses of `count` requests to `uri` with `headers`, and the last 429's `Retry-After`.
    static func statuses(
        _ client: some TestClientProtocol, _ uri: String, headers: HTTPFields = [:], count: Int
    ) async throws -> (statuses: [UInt], retryAfter: String?) {
        var statuses: [UInt] = []
        var retryAfter: String?
        for _ in 0..<count {
            try await client.execute(uri: uri, method: .get, headers: headers) { response in
                statuses.append(UInt(response.status.code))
                if response.status == .tooManyRequests {
                    retryAfter = response.headers[.retryAfter]
                    #expect(String(buffer: response.body).contains("too many requests"))
                }
            }
        }
        return (statuses, retryAfter)
    }

    /// A butler allowing each user 1 request an hour in bursts of 2 (so no test is slow enough
    /// for a request to come back), its limits in `redis` when given; `bob-token` authenticates
    /// `bob`.
    static func withButler(
        redis: RedisClient? = nil, bob: String = "bob", _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        try await ButlerTesting.withButler(tokens: "alice-token:alice,bob-token:\(bob)", redis: redis, configure: { configuration in
            configuration.requestRate = 1
            configuration.requestPeriod = .seconds(3600)
            configuration.requestBurst = 2
        }) { _, client in try await body(client) }
    }

    @Test func aUserPastTheBurstGets429WithRetryAfterAndOtherUsersDoNot() async throws {
        try await Self.withButler { client in
            let alice = try await Self.statuses(client, "/v1/portfolios", headers: [.authorization: "Bearer alice-token"], count: 3)
            #expect(alice.statuses == [200, 200, 429])
            // The hour's slot, less the seconds the requests took, rounded up.
            #expect(alice.retryAfter.flatMap(Int.init).map { (3500...3600).contains($0) } == true, "\(alice.retryAfter ?? "none")")
            let bob = try await Self.statuses(client, "/v1/portfolios", headers: [.authorization: "Bearer bob-token"], count: 2)
            #expect(bob.statuses == [200, 200])
        }
    }

    @Test func unauthenticatedRoutesAreLimitedPerClientAddress() async throws {
        let database = try await ExampleDatabases.open(.sqlite)
        try await database.run { database in
            let limits = try RequestRateLimits(name: "saas-api-limit-test", rate: 1, per: .seconds(3600), burst: 2, redis: nil)
            let api = try SaasAPI(database: database, slowRequestThreshold: .seconds(5), requestLimits: limits, logger: Self.logger)
            try await api.application(port: 0, logger: Self.logger).test(.live) { client in
                let address = try await Self.statuses(client, "/health", count: 3)
                #expect(address.statuses == [200, 200, 429])
                #expect(address.retryAfter.flatMap(Int.init).map { (3500...3600).contains($0) } == true, "\(address.retryAfter ?? "none")")
            }
        }
    }

    @Test(.enabled(if: ExampleDatabases.redisURL != nil || ExampleDatabases.isCI, "set TEST_REDIS_URL (scripts/test.sh does)"))
    func twoButlersOnOneRedisShareEachUsersBucket() async throws {
        let url = try #require(ExampleDatabases.redisURL, "CI=true but TEST_REDIS_URL is not set: run scripts/test.sh")
        let redis = try RedisClient(configuration: RedisConfiguration(url: url))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await redis.run() }
            // A user of its own, so that no earlier run's bucket in Redis counts.
            let bob = "bob-\(UUID().uuidString.prefix(8))"
            try await Self.withButler(redis: redis, bob: bob) { firstClient in
                try await Self.withButler(redis: redis, bob: bob) { secondClient in
                    let headers: HTTPFields = [.authorization: "Bearer bob-token"]
                    let one = try await Self.statuses(firstClient, "/v1/portfolios", headers: headers, count: 1)
                    let two = try await Self.statuses(secondClient, "/v1/portfolios", headers: headers, count: 1)
                    let three = try await Self.statuses(firstClient, "/v1/portfolios", headers: headers, count: 1)
                    #expect(one.statuses + two.statuses + three.statuses == [200, 200, 429])
                }
            }
            await redis.shutdown()
            try await group.waitForAll()
        }
    }
}
