public import ExampleSupport
import HummingbirdAuth
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
/// let configuration = try ButlerConfiguration()
/// let butler = try Butler(
///     database: database, configuration: configuration,
///     authentication: try await ButlerAuthentication(configuration.authentication))
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
    /// How bearer tokens are checked.
    public let authentication: ButlerAuthentication
    /// Each user's (and, for `/health` and `/metrics`, each client address's) request limit.
    public let requestLimits: RequestRateLimits
    /// Brings the database pools' metrics up to date for `/metrics`.
    let publishDatabaseMetrics: @Sendable () -> Void

    /// A butler on `database` checking tokens with `authentication`, its jobs calling through
    /// `limiters` (in-process ones when `nil`), its price and chain-data caches and its per-user
    /// request limits kept in Redis when `redis` is given (the caches' services are in
    /// ``cacheServices``). `publishDatabaseMetrics` runs before each `/metrics` answer.
    public init(
        database: any SQLDatabase, configuration: ButlerConfiguration, authentication: ButlerAuthentication,
        limiters: ButlerLimiters? = nil, redis: RedisClient? = nil,
        publishDatabaseMetrics: @escaping @Sendable () -> Void = {}
    ) throws {
        store = ButlerStore(database: database)
        prices = try ExampleCache(name: "crypto-butler-prices", maximumCapacity: 10_000, timeToLive: .seconds(60), redis: redis)
        jobs = try ButlerJobs(
            store: store, prices: prices, apiLatency: configuration.apiLatency,
            limiters: limiters ?? .inProcess(coinGeckoInterval: configuration.coinGeckoInterval), redis: redis)
        requestLimits = try RequestRateLimits(
            name: "crypto-butler", rate: configuration.requestRate, per: configuration.requestPeriod,
            burst: configuration.requestBurst, redis: redis)
        self.configuration = configuration
        self.authentication = authentication
        self.publishDatabaseMetrics = publishDatabaseMetrics
    }

    /// The services of tiered caches (their invalidation subscriptions), to run beside the Redis
    /// client; none for caches in memory.
    public var cacheServices: [any Service] { [prices.service, jobs.chainCache.service].compactMap { $0 } }

    /// The routes: `/health` and `/metrics` (limited per client address), and `/v1/portfolios…`
    /// behind the bearer token (limited per user). Every request is traced (a span per request,
    /// its statements' spans inside) and counted and timed in the metrics.
    public func router() -> Router<ButlerContext> {
        let router = Router(context: ButlerContext.self)
        router.add(middleware: TracingMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: BodyDeadlineMiddleware(timeout: configuration.bodyTimeout))
        let open = router.group().add(
            middleware: RequestRateLimitMiddleware(limits: requestLimits) { _, context in
                context.remoteAddress?.ipAddress.map { .address($0) }
            })
        open.get("health") { _, _ -> Response in
            _ = try await self.store.database.query("SELECT 1")
            return Self.json(#"{"status":"ok","database":"ok"}"#)
        }
        open.get("metrics") { _, _ -> Response in
            ExampleMetrics.response { self.publishMetrics() }
        }
        let api = router.group("v1/portfolios")
            .add(middleware: ButlerAuthenticator(authentication: authentication))
            .add(middleware: RequestRateLimitMiddleware(limits: requestLimits) { _, context in context.identity.map { .user($0.name) } })
        api.get { _, context -> PortfolioList in
            PortfolioList(portfolios: try await self.store.portfolios(of: try context.requireIdentity().name))
        }
        api.post { request, context -> EditedResponse<Portfolio> in
            let input = try await request.decode(as: PortfolioInput.self, context: context).normalized
            if let problem = input.problem { throw HTTPError(.badRequest, message: problem) }
            let portfolio = try await self.store.create(input, for: try context.requireIdentity().name)
            return EditedResponse(status: .created, response: portfolio)
        }
        api.get(":id/valuation") { _, context -> Valuation in
            let id = try context.parameters.require("id", as: Int64.self)
            guard let portfolio = try await self.store.portfolio(id, of: try context.requireIdentity().name) else {
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

    /// Brings every gauge and counter of the service up to date for a scrape: the pools', the
    /// caches', the limiters', CoinGecko's breaker's.
    func publishMetrics() {
        publishDatabaseMetrics()
        prices.publishMetrics()
        jobs.chainCache.publishMetrics()
        jobs.limiters.publishMetrics()
        jobs.coinGeckoBreaker.publishMetrics()
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
