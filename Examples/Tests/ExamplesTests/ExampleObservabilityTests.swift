import ButlerKit
import ExampleSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import InMemoryTracing
import KeelTesting
import Logging
import Redis
import SaasKit
import Testing
import Tracing

/// The HTTP examples' metrics and spans: every metric name docs/observability.md lists is in a
/// scrape of `/metrics`, and one request of each example is a span with its statements' spans inside.
@Suite(.serialized) struct ExampleObservabilityTests {
    /// The metric names in docs/observability.md's tables (the first column of each row, between
    /// "## Metric names" and "## Spans").
    static func documentedMetricNames() throws -> [String] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../docs/observability.md")
        let text = try String(contentsOf: path, encoding: .utf8)
        let metrics = try #require(text.range(of: "## Metric names")).upperBound
        let spans = try #require(text.range(of: "## Spans")).lowerBound
        return text[metrics..<spans].split(separator: "\n").compactMap { line in
            guard line.hasPrefix("| `") else { return nil }
            return line.dropFirst(3).prefix { $0 != "`" }.description
        }
    }

    static var logger: Logger {
        var logger = Logger(label: "observability-test")
        logger.logLevel = .warning
        return logger
    }

    /// A butler on a fresh SQLite database allowing each user `requestBurst` requests an hour, its
    /// limiters and tiered caches on `redis` when given.
    static func withButler(
        redis: RedisClient? = nil, requestBurst: Int = 1_000, _ body: @escaping @Sendable (Butler, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await ButlerTesting.withButler(redis: redis, fleetLimiters: true, configure: { configuration in
            configuration.coinGeckoInterval = .milliseconds(1)
            configuration.requestRate = 1
            configuration.requestPeriod = .seconds(3600)
            configuration.requestBurst = requestBurst
        }, body)
    }

    /// Portfolio requests: two good ones, a refused token, a valuation (a cache load), and a 429.
    static func exercise(_ butler: Butler, _ client: some TestClientProtocol) async throws {
        let alice: HTTPFields = [.authorization: "Bearer alice-token", .contentType: "application/json"]
        try await butler.jobs.runAll()
        try await client.execute(
            uri: "/v1/portfolios", method: .post, headers: alice,
            body: ByteBuffer(string: #"{"name":"Main","holdings":[{"coin":"bitcoin","amount":1}]}"#)) { #expect($0.status == .created) }
        try await client.execute(uri: "/v1/portfolios/1/valuation", method: .get, headers: alice) { #expect($0.status == .ok) }
        try await client.execute(uri: "/v1/portfolios", method: .get, headers: [.authorization: "Bearer wrong"]) {
            #expect($0.status == .unauthorized)
        }
        try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .ok) }
    }

    @Test func everyDocumentedMetricIsInTheExamplesScrape() async throws {
        ExampleMetrics.bootstrap()
        let names = try Self.documentedMetricNames()
        #expect(names.count >= 60)
        try await Self.withButler(requestBurst: 3) { butler, client in
            try await Self.exercise(butler, client)
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/portfolios", method: .get, headers: [.authorization: "Bearer alice-token"]) {
                    statuses.append($0.status)
                }
            }
            #expect(statuses == [.ok, .tooManyRequests])
        }
        if let url = ExampleDatabases.redisURL ?? (ExampleDatabases.isCI ? "" : nil) {
            let redis = try RedisClient(configuration: RedisConfiguration(url: try #require(url.isEmpty ? nil : url, "CI=true but TEST_REDIS_URL is not set")))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await redis.run() }
                try await Self.withButler(redis: redis) { butler, client in
                    try await Self.exercise(butler, client)
                }
                await redis.shutdown()
                try await group.waitForAll()
            }
        }
        let database = try await ExampleDatabases.open(.sqlite)
        let scrape = try await database.run { database in
            let limits = try RequestRateLimits(name: "saas-api-test", rate: 1_000, burst: 1_000, redis: nil)
            let api = try SaasAPI(database: database, slowRequestThreshold: .seconds(5), requestLimits: limits, logger: Self.logger)
            return try await api.application(port: 0, logger: Self.logger).test(.router) { client in
                try await client.execute(uri: "/leads?limit=10", method: .get) { #expect($0.status == .ok) }
                return try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                    return String(buffer: response.body)
                }
            }
        }
        var missing: [String] = []
        for name in names where !scrape.contains("# TYPE \(name) ") {
            if name.hasPrefix("keel_redis_limiter_") || name.hasPrefix("keel_tiered_cache_"), ExampleDatabases.redisURL == nil, !ExampleDatabases.isCI {
                continue  // only with a Redis (scripts/test.sh starts one)
            }
            missing.append(name)
        }
        #expect(missing.isEmpty, "documented but not scraped: \(missing)")
        #expect(scrape.split(separator: "\n").contains { $0.hasPrefix("keel_sql_statement_duration_count{") && $0.contains(#"system="sqlite""#) })
    }

    @Test(arguments: ExampleDatabases.kinds)
    func aButlerRequestIsASpanWithItsStatementsInside(_ kind: ExampleDatabases.Kind) async throws {
        let store = try await ExampleDatabases.open(kind)
        try await store.run { database in
            var configuration = try ButlerConfiguration(environment: ["BUTLER_TOKENS": "alice-token:alice"])
            configuration.jobsInterval = nil
            let butler = try Butler(
                database: database, configuration: configuration, authentication: try await ButlerAuthentication(configuration.authentication))
            // No reset: on PostgreSQL the tables are shared with other suites running meanwhile.
            try await butler.store.migrate()
            try await butler.application(port: 0, services: [], logger: Self.logger).test(.router) { client in
                let (_, spans) = try await SpanRecorder.record("client") {
                    try await client.execute(uri: "/v1/portfolios", method: .get, headers: [.authorization: "Bearer alice-token"]) {
                        #expect($0.status == .ok)
                    }
                }
                try Self.expectRequestSpan("/v1/portfolios", in: spans, system: kind == .postgres ? "postgresql" : "sqlite")
            }
        }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func aSaasRequestIsASpanWithItsStatementsInside(_ kind: ExampleDatabases.Kind) async throws {
        let store = try await ExampleDatabases.open(kind)
        try await store.run { database in
            let limits = try RequestRateLimits(name: "saas-api-test", rate: 1_000, burst: 1_000, redis: nil)
            let api = try SaasAPI(database: database, slowRequestThreshold: .seconds(5), requestLimits: limits, logger: Self.logger)
            try await api.application(port: 0, logger: Self.logger).test(.router) { client in
                let (_, spans) = try await SpanRecorder.record("client") {
                    try await client.execute(uri: "/leads?limit=10", method: .get) { #expect($0.status == .ok) }
                }
                try Self.expectRequestSpan("/leads", in: spans, system: kind == .postgres ? "postgresql" : "sqlite")
            }
        }
    }

    /// One server span for `route` under the client's span, with at least one `db.query` span of
    /// `system` inside it (directly, or inside a span of its own such as `cache.load`).
    static func expectRequestSpan(_ route: String, in spans: [FinishedInMemorySpan], system: String) throws {
        let parents = Dictionary(spans.map { ($0.spanID, $0.parentSpanID) }, uniquingKeysWith: { first, _ in first })
        func isInside(_ span: FinishedInMemorySpan, _ ancestor: FinishedInMemorySpan) -> Bool {
            var parent = span.parentSpanID
            while let id = parent {
                if id == ancestor.spanID { return true }
                parent = parents[id] ?? nil
            }
            return false
        }
        let client = try #require(spans.last)
        let request = try #require(spans.first { $0.kind == .server }, "no server span in \(spans.map(\.operationName))")
        #expect(request.parentSpanID == client.spanID)
        #expect(request.operationName.contains(route))
        #expect(request.attributes.get("http.response.status_code")?.toSpanAttribute() == .int64(200))
        let statements = spans.filter { $0.operationName == "db.query" }
        #expect(!statements.isEmpty)
        for statement in statements {
            #expect(isInside(statement, request), "a statement span outside the request span")
            #expect(statement.attributes.get("db.system.name")?.toSpanAttribute() == .string(system))
            #expect(statement.attributes.get("db.query.text") != nil)
        }
        #expect(spans.contains { $0.operationName == "pool.acquire" && isInside($0, request) })
    }
}
