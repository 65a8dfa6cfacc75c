import ArgumentParser
import BotFleetKit
import ExampleSupport
import Foundation
import Pooling
import PostgresPool
import SQLCore
import SQLitePool

/// `bot-fleet`: 0xBot's 100 concurrent trading bots (reference 003) on Keel.
@main
struct BotFleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bot-fleet",
        abstract: "Runs concurrent trading bots on a pooled database with a market-data cache.",
        discussion: """
            Rebuilds 0xBot's performance layers (reference document 003): N bots (default 100) each \
            run cycles that fetch market data (OHLCV, funding rate, ticker) concurrently through a \
            cache (Cache.value(for:orFetch:): 5-minute TTL, indicators 15 minutes), compute EMA and \
            RSI, read their positions with the latest equity snapshots in two queries (no N+1), \
            record a trade and read a page of their trade history (100 per page, at most 1000, with \
            total and page count). The PostgreSQL pool is configured like the reference's SQLAlchemy \
            QueuePool: 20 connections + 80 overflow, pre-ping, recycled after an hour. Prints progress \
            every second and a final table. --no-cache and --naive (N+1 queries and a new connection \
            per query, the NullPool anti-pattern) show the difference.

            The exchange is simulated in-process (100-300 ms per call). Runs on SQLite (a temporary \
            file) unless DATABASE_URL names a PostgreSQL database.
            """)

    @Option(help: "How many bots run at once.")
    var bots = 100

    @Option(help: "How long the fleet runs, in seconds.")
    var duration = 10.0

    @Option(help: "The pause between a bot's cycles, in milliseconds.")
    var cycleIntervalMs = 250

    @Option(help: "The simulated exchange's fastest answer, in milliseconds.")
    var exchangeMinMs = 100

    @Option(help: "The simulated exchange's slowest answer, in milliseconds.")
    var exchangeMaxMs = 300

    @Flag(help: "Fetch market data from the exchange on every cycle (no cache).")
    var noCache = false

    @Flag(help: "Read equity snapshots one query per position (N+1) and open a new connection per query.")
    var naive = false

    @Option(help: "A SQLite file to use instead of a temporary one (ignores DATABASE_URL).")
    var database: String?

    func validate() throws {
        guard bots > 0 else { throw ValidationError("--bots must be at least 1") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard cycleIntervalMs >= 0, exchangeMinMs >= 0, exchangeMaxMs >= exchangeMinMs else {
            throw ValidationError("intervals must not be negative and --exchange-max-ms must be at least --exchange-min-ms")
        }
    }

    func run() async throws {
        var pool = ExampleDatabase.quietPoolConfiguration()
        pool.maxConnections = 20
        pool.maxOverflow = 80
        pool.maxLifetime = .seconds(3600)
        pool.validation = .always
        pool.acquireTimeout = .seconds(30)
        let store = try await ExampleDatabase.open(databasePath: database, pool: pool)
        print("bot-fleet: Keel rebuild of 0xBot's concurrent bots (reference 003)")
        print("database: \(store.location)")
        print("pool: \(store.isPostgres ? "20 connections + 80 overflow, pre-ping, recycle 1 h" : "SQLite: one writer, parallel readers")")
        print("exchange: simulated, \(exchangeMinMs)-\(exchangeMaxMs) ms per call; cache: \(noCache ? "off" : "market data 5 min, indicators 15 min")\(naive ? "; naive: N+1 queries, a new connection per query" : "")")
        print("\(bots) bots for \(duration) s\n")

        try await store.run { database in
            try await BotFleet.resetSchema(on: database)
            try await BotFleet.seed(bots: bots, on: database)
            let fleetStore = naive ? FleetStore(connectingPerQuery: try Self.connectionOpener(for: store)) : FleetStore(pooled: database)
            let market = SimulatedMarket(latency: .milliseconds(exchangeMinMs)...(.milliseconds(exchangeMaxMs)))
            let fleet = try BotFleet(store: fleetStore, market: market, caching: !noCache, readsOnePositionAtATime: naive)
            let progress = FleetProgress()
            let start = ContinuousClock.now
            let deadline = start.advanced(by: .milliseconds(Int(duration * 1000)))

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var second = 0
                    var previous = 0
                    while ContinuousClock.now < deadline {
                        second += 1
                        try await Task.sleep(until: start.advanced(by: .seconds(second)), clock: .continuous)
                        let done = progress.cycles.load(ordering: .relaxed)
                        let recent = fleetStore.latencies.takeRecent()
                        var line = "t=\(second)s cycles=\(done) (+\(done - previous)/s) query p50=\(Self.ms(LatencyRecorder.percentile(recent, 0.5))) p99=\(Self.ms(LatencyRecorder.percentile(recent, 0.99)))"
                        line += " cache hit \(String(format: "%.1f", fleet.cacheHitRatio * 100))%"
                        if let statistics = store.poolStatistics {
                            line += " pool checked-out \(statistics.inUse)/20 overflow \(statistics.overflowInUse)"
                        }
                        print(line)
                        previous = done
                    }
                }
                for bot in 0..<bots {
                    group.addTask {
                        var iteration = 0
                        while ContinuousClock.now < deadline {
                            do {
                                let page = try await fleet.runCycle(bot: bot, iteration: iteration)
                                if bot == 0 { progress.lastPage.withLock { $0 = page } }
                                progress.cycles.add(1, ordering: .relaxed)
                            } catch {
                                if progress.failures.add(1, ordering: .relaxed).newValue <= 3 { print("bot \(bot): cycle failed: \(error)") }
                            }
                            iteration += 1
                            if cycleIntervalMs > 0 { try await Task.sleep(for: .milliseconds(cycleIntervalMs)) }
                        }
                    }
                }
                try await group.waitForAll()
            }

            let elapsed = ContinuousClock.now - start
            let all = fleetStore.latencies.all
            let done = progress.cycles.load(ordering: .relaxed)
            var table = TextTable(header: ["bot-fleet", "value"])
            table.append(["bots", "\(bots)"])
            table.append(["cycles", "\(done) (\(String(format: "%.0f", Double(done) / (elapsed.milliseconds / 1000)))/s)"])
            table.append(["failed cycles", "\(progress.failures.load(ordering: .relaxed))"])
            table.append(["queries", "\(fleetStore.statements) (\(String(format: "%.1f", Double(fleetStore.statements) / Double(max(1, done)))) per cycle)"])
            table.append(["query latency p50", Self.ms(LatencyRecorder.percentile(all, 0.5))])
            table.append(["query latency p99", Self.ms(LatencyRecorder.percentile(all, 0.99))])
            table.append(["cache hit rate", noCache ? "off" : String(format: "%.1f%% (reference target > 70%%)", fleet.cacheHitRatio * 100)])
            if let page = progress.lastPage.withLock({ $0 }) {
                table.append(["bot 0's history", "page \(page.page) of \(page.pages), \(page.tradeIDs.count) of \(page.total) trades (limit \(page.limit))"])
            }
            if let statistics = store.poolStatistics {
                table.append(["pool", "open \(statistics.open), created \(statistics.created), waits \(statistics.waitCount), timeouts \(statistics.timeouts)"])
            }
            print("")
            print(table.rendered)
        }
    }

    static func ms(_ value: Double) -> String { String(format: "%.2fms", value) }

    /// For `--naive`: a new connection for every query.
    static func connectionOpener(for store: ExampleDatabase) throws -> FleetStore.ConnectionOpener {
        switch store.backend {
        case .postgres(let database):
            let configuration = database.pool.source.configuration
            return {
                let connection = try await PostgresConnection.connect(configuration: configuration)
                return (connection, { connection.close() })
            }
        case .sqlite(let database):
            var configuration = database.configuration
            configuration.readerCount = 1
            let settings = configuration
            return {
                let connection = try await SQLiteDatabase(configuration: settings)
                return (connection, { await connection.close() })
            }
        }
    }
}
