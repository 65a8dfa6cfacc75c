import ArgumentParser
import ExampleSupport
import Foundation
import Hummingbird
import Logging
import NIOPosix
import Pooling
import Redis
import SaasKit
import ServiceLifecycle

/// `saas-api`: the Elite Creatif leads and campaigns API (reference 004) on Hummingbird and Keel.
@main
struct SaasAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "saas-api",
        abstract: "A leads and campaigns API on Hummingbird with Keel's pool and batched CSV imports.",
        discussion: """
            Rebuilds the Elite Creatif SaaS API (reference document 004): leads and campaigns CRUD with \
            pagination (GET /leads?page=1&limit=100: 100 by default, at most 1000, with total and pages), \
            GET /notifications?since=N for polling and GET /notifications/stream for Server-Sent Events (pushed \
            through LISTEN/NOTIFY on PostgreSQL, so every instance's writes reach every instance's clients), POST /leads/upload for a CSV file of leads \
            (email,name,company) read as it streams in, validated row by row and upserted by email in \
            chunks in one transaction, refused whole (422, with every row's error) when a row is bad, and \
            a middleware logging requests slower than SLOW_REQUEST_MS (default 500). A connection that sends \
            nothing, or trickles a request, for HTTP_IDLE_TIMEOUT_SECS (default 30) is closed, and a request \
            whose body has not arrived within HTTP_BODY_TIMEOUT_SECS (default 120) is refused with 408. \
            Each client address may make HTTP_RATE_LIMIT_PER_SECOND (default 50) requests per second in \
            bursts of HTTP_RATE_LIMIT_BURST (100), answered 429 with Retry-After past it; with REDIS_URL \
            the limits are kept in Redis and shared by every instance. GET /metrics answers in \
            Prometheus's text format (Keel's pools and caches, and the HTTP requests).

            The pool is the reference's: 20 connections + 40 overflow, acquire timeout 30 s, recycled \
            after 1 h, pre-ping of connections idle over 500 ms (DB_MAX_CONNECTIONS, DB_MAX_OVERFLOW, DB_ACQUIRE_TIMEOUT_SECS, \
            DB_MAX_LIFETIME_SECS, DB_VALIDATION override them). Overflow connections close once idle for \
            1 s (DB_OVERFLOW_IDLE_TIMEOUT_SECS; none closes them as SQLAlchemy does, the moment 20 are idle). ENV=production runs one event-loop \
            thread per core and logs only slow requests; development (the default) runs one thread and \
            logs every request. Runs on SQLite (a temporary file) unless DATABASE_URL names a PostgreSQL \
            database.
            """)

    @Option(help: "The port to listen on (127.0.0.1).")
    var port = 8081

    @Option(help: "A SQLite file to use instead of a temporary one (ignores DATABASE_URL).")
    var database: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
    }

    func run() async throws {
        ExampleMetrics.bootstrap()
        let environment = ProcessInfo.processInfo.environment
        let production: Bool
        switch environment["ENV"]?.lowercased() {
        case nil, "development": production = false
        case "production": production = true
        default: throw ExampleConfigurationError(variable: "ENV", problem: "must be production or development")
        }
        var logger = Logger(label: "saas-api")
        logger.logLevel = .info
        var pool = try PoolConfiguration(environment: environment, logger: ExampleDatabase.quietPoolConfiguration().logger)
        if environment["DB_MAX_CONNECTIONS"] == nil { pool.maxConnections = 20 }
        if environment["DB_MAX_OVERFLOW"] == nil { pool.maxOverflow = 40 }
        if environment["DB_ACQUIRE_TIMEOUT_SECS"] == nil { pool.acquireTimeout = .seconds(30) }
        if environment["DB_MAX_LIFETIME_SECS"] == nil { pool.maxLifetime = .seconds(3600) }
        // pool_pre_ping as HikariCP does it: a connection idle for more than 500 ms is pinged
        // before use; one in constant use is not pinged on every request.
        if environment["DB_VALIDATION"] == nil { pool.validation = .whenIdleFor(.milliseconds(500)) }
        let slowMilliseconds = try ExampleConfigurationError.integer("SLOW_REQUEST_MS", in: environment, default: 500, range: 0...3_600_000)
        let threads = production ? ProcessInfo.processInfo.activeProcessorCount : 1
        logger.info("Mode: \(production ? "production" : "development"), \(threads) event-loop thread\(threads == 1 ? "" : "s"), \(production ? "slow requests logged" : "every request logged")")
        logger.info("Database pool: pool_size=\(pool.maxConnections), max_overflow=\(pool.maxOverflow), pool_timeout=\(pool.acquireTimeout), pool_recycle=\(pool.maxLifetime.map { "\($0)" } ?? "none"), pre_ping=\(pool.validation), overflow_idle_timeout=\(pool.overflowIdleTimeout.map { "\($0)" } ?? "none")")
        let store = try await ExampleDatabase.open(databasePath: database, pool: pool)
        logger.info("Database: \(store.location)")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let port = port
        var services: [any Service] = [store.service]
        var redis: RedisClient?
        if let url = environment["REDIS_URL"], !url.isEmpty {
            let client = try RedisClient(configuration: try RedisConfiguration(url: url))
            redis = client
            services.append(client)
        }
        let limit = try RequestRateLimits.settings(in: environment)
        let requestLimits = try RequestRateLimits(name: "saas-api", rate: limit.rate, burst: limit.burst, redis: redis)
        logger.info("Request limits: \(requestLimits.rate) per second per client address, bursts of \(requestLimits.burst), \(requestLimits.placement)")
        let api = try SaasAPI(
            database: store.database, slowRequestThreshold: .milliseconds(slowMilliseconds), logsEveryRequest: !production,
            bodyTimeout: try ExampleServer.bodyTimeout(in: environment), requestLimits: requestLimits,
            publishDatabaseMetrics: { store.publishMetrics() }, logger: logger)
        logger.info("Server ready on http://127.0.0.1:\(port) (slow request threshold \(slowMilliseconds) ms)")
        // The database runs as a service of the application: it closes after the server stops.
        let idleTimeout = try ExampleServer.idleTimeout(in: environment)
        try await api.application(
            port: port, eventLoopGroup: .shared(group), services: services, idleTimeout: idleTimeout, logger: logger)
            .runService()
        try await group.shutdownGracefully()
    }
}
