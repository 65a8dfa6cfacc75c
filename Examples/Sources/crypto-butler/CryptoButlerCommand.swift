import ArgumentParser
import ButlerKit
import ExampleSupport
import Foundation
import Hummingbird
import Logging
import Pooling
import Redis
import ServiceLifecycle

/// `crypto-butler`: the Crypto Pocket Butler portfolio backend (reference 000) on Hummingbird and Keel.
@main
struct CryptoButlerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crypto-butler",
        abstract: "A portfolio API on Hummingbird with Keel's pool, cache, rate limiters and batched upserts.",
        discussion: """
            Rebuilds the Crypto Pocket Butler backend (reference document 000): GET/POST /v1/portfolios and \
            GET /v1/portfolios/:id/valuation behind a bearer JWT (RS256 or ES256 keys from a JSON Web Key \
            Set in BUTLER_JWKS or the file BUTLER_JWKS_FILE, or HS256 with BUTLER_JWT_SECRET; issuer \
            BUTLER_JWT_ISSUER, audience BUTLER_JWT_AUDIENCE and clock skew BUTLER_JWT_LEEWAY_SECS, default \
            30, checked; with none of these a key pair is made at start-up and a demo token valid for an \
            hour printed), or a static token table instead (BUTLER_TOKENS = "token:user,..."); each user \
            limited to HTTP_RATE_LIMIT_PER_SECOND (default 50) requests per second in bursts of \
            HTTP_RATE_LIMIT_BURST (100), answered 429 with Retry-After past it. GET /health and GET \
            /metrics (Prometheus's text format: Keel's pools, caches and limiters, and the HTTP requests), \
            limited per client address. Background jobs, at start and every --jobs-interval seconds: price \
            collection from a simulated CoinGecko through its limiter (5 at once, 2 s apart) upserted in \
            one batch into the price cache (10,000 entries, 60 s) and the database, top-coin rankings, \
            contract addresses flushed every 100, and multi-chain wallet balances fetched in parallel \
            through the EVM limiter (5 at once, 50 ms apart) and the chain-data cache (1,000, 30 s).

            The pool reads the reference's DB_MAX_CONNECTIONS (default 100), DB_MIN_CONNECTIONS (5), \
            DB_CONNECT_TIMEOUT_SECS, DB_ACQUIRE_TIMEOUT_SECS, DB_IDLE_TIMEOUT_SECS, DB_MAX_LIFETIME_SECS. \
            A connection that sends nothing, or trickles a request, for HTTP_IDLE_TIMEOUT_SECS (default 30) \
            is closed, and a request whose body has not arrived within HTTP_BODY_TIMEOUT_SECS (default 120) \
            is refused with 408. \
            Runs on SQLite (a temporary file) unless DATABASE_URL names a PostgreSQL database. With \
            REDIS_URL (redis://[user:password@]host:port/db), the CoinGecko and EVM limits are kept in Redis \
            and shared by every crypto-butler process on it, and the price and chain-data caches are \
            tiered (memory, then Redis) and shared too; without, each process has its own.
            """)

    @Option(help: "The port to listen on (127.0.0.1).")
    var port = 8080

    @Option(help: "A SQLite file to use instead of a temporary one (ignores DATABASE_URL).")
    var database: String?

    @Option(help: "Seconds between runs of the background jobs.")
    var jobsInterval: Double = 60

    @Option(help: "Seconds between two CoinGecko calls (the reference's 2).")
    var coingeckoInterval: Double = 2

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard jobsInterval.isFinite, jobsInterval > 0, jobsInterval <= 86_400 else {
            throw ValidationError("--jobs-interval must be a number of seconds above 0 and at most 86400")
        }
        guard coingeckoInterval.isFinite, coingeckoInterval >= 0, coingeckoInterval <= 3_600 else {
            throw ValidationError("--coingecko-interval must be a number of seconds from 0 to 3600")
        }
    }

    func run() async throws {
        ExampleMetrics.bootstrap()
        var logger = Logger(label: "crypto-butler")
        logger.logLevel = .info
        let environment = ProcessInfo.processInfo.environment
        var pool = try PoolConfiguration(environment: environment, logger: ExampleDatabase.quietPoolConfiguration().logger)
        if environment["DB_MAX_CONNECTIONS"] == nil { pool.maxConnections = 100 }
        if environment["DB_MIN_CONNECTIONS"] == nil { pool.minConnections = 5 }
        logger.info("Runtime: multi-threaded, \(ProcessInfo.processInfo.activeProcessorCount) event-loop threads (one per core)")
        logger.info("Initializing database connection pool with max_connections=\(pool.maxConnections), min_connections=\(pool.minConnections)")
        let store = try await ExampleDatabase.open(databasePath: database, pool: pool)
        logger.info("Database: \(store.location)")
        var configuration = try ButlerConfiguration(environment: environment)
        configuration.jobsInterval = .milliseconds(Int(jobsInterval * 1000))
        configuration.coinGeckoInterval = .milliseconds(Int(coingeckoInterval * 1000))
        let port = port
        var services: [any Service] = [store.service]
        let limiters: ButlerLimiters
        var redis: RedisClient?
        if let url = environment["REDIS_URL"], !url.isEmpty {
            let redisConfiguration = try RedisConfiguration(url: url)
            let client = try RedisClient(configuration: redisConfiguration)
            redis = client
            services.append(client)
            limiters = try .fleet(
                redis: client, at: "\(redisConfiguration.host):\(redisConfiguration.port)",
                coinGeckoInterval: configuration.coinGeckoInterval)
        } else {
            limiters = .inProcess(coinGeckoInterval: configuration.coinGeckoInterval)
        }
        logger.info("Rate limits: \(limiters.placement)")
        let authentication = try await ButlerAuthentication(configuration.authentication)
        switch authentication {
        case .tokens(let tokens):
            logger.info("Authentication: a static table of \(tokens.count) token\(tokens.count == 1 ? "" : "s") (BUTLER_TOKENS)")
        case .jwt(let verifier):
            if verifier.settings.keys == .generated {
                let token = try await verifier.demoToken(for: "demo")
                logger.info("Authentication: JWTs signed by a key pair made at start-up (set BUTLER_JWKS, BUTLER_JWKS_FILE or BUTLER_JWT_SECRET for your own)")
                logger.info("Demo token for user demo, valid for an hour: \(token)")
            } else {
                logger.info("Authentication: JWTs (issuer \(verifier.settings.issuer ?? "any"), audience \(verifier.settings.audience ?? "any"), clock skew \(verifier.settings.leeway))")
            }
        }
        let butler = try Butler(
            database: store.database, configuration: configuration, authentication: authentication, limiters: limiters,
            redis: redis, publishDatabaseMetrics: { store.publishMetrics() })
        logger.info("Request limits: \(configuration.requestRate) per second per user, bursts of \(configuration.requestBurst), \(butler.requestLimits.placement)")
        services += butler.cacheServices
        logger.info("Price and chain-data caches: \(butler.prices.placement)")
        // The database (and Redis) run as services of the application, before the jobs: on
        // shutdown the server stops, then the jobs, then Redis and the database close.
        services.append(ButlerJobsService(butler: butler, logger: logger))
        let app = butler.application(
            port: port, services: services, idleTimeout: try ExampleServer.idleTimeout(in: environment), logger: logger)
        logger.info("Server ready to handle concurrent requests on http://127.0.0.1:\(port)")
        try await app.runService()
    }
}
