public import ExampleSupport
import Foundation
public import Hummingbird
public import Logging
public import Redis
import Pooling
public import SQLCore
public import ServiceLifecycle

/// crypto-butler: the portfolio backend of the reference (Axum, SeaORM, moka, Tokio semaphores)
/// on Hummingbird and Keel.
///
/// ```swift
/// let butler = try Butler(database: database, configuration: ButlerConfiguration())
/// try await butler.store.migrate()
/// let app = butler.application(port: 8080, services: [], logger: logger)
/// try await app.runService()
/// ```
public final class Butler: Sendable {
    /// The tables.
    public let store: ButlerStore
    /// Latest prices, 10,000 entries for 60 s (tiered, shared by the fleet, with a Redis client).
    public let prices: ExampleCache<Double>
    /// The background jobs.
    public let jobs: ButlerJobs
    /// The settings.
    public let configuration: ButlerConfiguration
    /// Pool statistics for `/metrics` (PostgreSQL only).
    let poolStatistics: @Sendable () -> PoolStatistics?

    /// A butler on `database`, its jobs calling through `limiters` (in-process ones when `nil`),
    /// its price and chain-data caches tiered on `redis` when given (their services are in
    /// ``cacheServices``).
    public init(
        database: any SQLDatabase, configuration: ButlerConfiguration, limiters: ButlerLimiters? = nil,
        redis: RedisClient? = nil, poolStatistics: @escaping @Sendable () -> PoolStatistics? = { nil }
    ) throws {
        store = ButlerStore(database: database)
        prices = try ExampleCache(name: "crypto-butler-prices", maximumCapacity: 10_000, timeToLive: .seconds(60), redis: redis)
        jobs = try ButlerJobs(
            store: store, prices: prices, apiLatency: configuration.apiLatency,
            limiters: limiters ?? .inProcess(coinGeckoInterval: configuration.coinGeckoInterval), redis: redis)
        self.configuration = configuration
        self.poolStatistics = poolStatistics
    }

    /// The services of tiered caches (their invalidation subscriptions), to run beside the Redis
    /// client; none for caches in memory.
    public var cacheServices: [any Service] { [prices.service, jobs.chainCache.service].compactMap { $0 } }

    /// The routes: `/health`, `/metrics`, and `/v1/portfolios…` behind the bearer token.
    public func router() -> Router<ButlerContext> {
        let router = Router(context: ButlerContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: BodyDeadlineMiddleware(timeout: configuration.bodyTimeout))
        router.get("health") { _, _ -> Response in
            _ = try await self.store.database.query("SELECT 1")
            return Self.json(#"{"status":"ok","database":"ok"}"#)
        }
        router.get("metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: self.metricsText())))
        }
        let api = router.group("v1/portfolios").add(middleware: BearerTokenMiddleware(tokens: configuration.tokens))
        api.get { _, context -> PortfolioList in
            PortfolioList(portfolios: try await self.store.portfolios(of: context.user!))
        }
        api.post { request, context -> EditedResponse<Portfolio> in
            let input = try await request.decode(as: PortfolioInput.self, context: context).normalized
            if let problem = input.problem { throw HTTPError(.badRequest, message: problem) }
            let portfolio = try await self.store.create(input, for: context.user!)
            return EditedResponse(status: .created, response: portfolio)
        }
        api.get(":id/valuation") { _, context -> Valuation in
            let id = try context.parameters.require("id", as: Int64.self)
            guard let portfolio = try await self.store.portfolio(id, of: context.user!) else {
                throw HTTPError(.notFound, message: "no portfolio \(id)")
            }
            return try await self.valuation(of: portfolio)
        }
        return router
    }

    /// Values each holding at its price: from the price cache, or the database (one read per coin
    /// for all concurrent callers: single-flight).
    func valuation(of portfolio: Portfolio) async throws -> Valuation {
        var lines: [Valuation.Line] = []
        for holding in portfolio.holdings {
            let store = store
            let price: Double?
            do {
                price = try await prices.value(for: holding.coin) {
                    guard let price = try await store.price(of: holding.coin) else { throw HTTPError(.notFound) }
                    return price
                }
            } catch let error as HTTPError where error.status == .notFound {
                price = nil  // no price collected yet: valued at 0; database errors still fail the request
            }
            lines.append(.init(coin: holding.coin, amount: holding.amount, priceUSD: price, valueUSD: holding.amount * (price ?? 0)))
        }
        return Valuation(portfolioID: portfolio.id, lines: lines, totalUSD: lines.reduce(0) { $0 + $1.valueUSD })
    }

    /// Keel's statistics as plain text.
    func metricsText() -> String {
        var text = ""
        if let pool = poolStatistics() {
            text += "keel_pool_open \(pool.open)\nkeel_pool_in_use \(pool.inUse)\nkeel_pool_idle \(pool.idle)\n"
            text += "keel_pool_waiting \(pool.waiting)\nkeel_pool_wait_count \(pool.waitCount)\nkeel_pool_timeouts \(pool.timeouts)\n"
        }
        text += "keel_cache_entries{cache=\"prices\"} \(prices.count)\n"
        text += "keel_cache_hits_total{cache=\"prices\"} \(prices.lookupCount - prices.fetchCount)\n"
        text += "keel_cache_misses_total{cache=\"prices\"} \(prices.fetchCount)\n"
        text += jobs.limiters.metricsText()
        text += "butler_coingecko_calls_total \(jobs.coinGeckoCalls)\n"
        return text
    }

    /// The Hummingbird application on `127.0.0.1:port`, running `services` (the database, the
    /// jobs) alongside as services of its own: they start with it, and on shutdown the server
    /// stops first, then they do, in reverse order. The schema is migrated before the server
    /// starts accepting requests. A connection that sends nothing, or trickles a request's headers
    /// or body, for `idleTimeout` is closed.
    public func application(
        host: String = "127.0.0.1", port: Int, services: [any Service], idleTimeout: Duration = ExampleServer.defaultIdleTimeout,
        logger: Logger
    ) -> some ApplicationProtocol {
        var application = Application(
            router: router(), server: ExampleServer.http1(idleTimeout: idleTimeout),
            configuration: .init(address: .hostname(host, port: port), serverName: "crypto-butler"),
            services: services, logger: logger)
        application.beforeServerStarts { [store] in
            let report = try await store.migrate()
            logger.info("Database schema: \(report)")
        }
        return application
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
