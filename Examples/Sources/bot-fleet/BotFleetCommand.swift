import ArgumentParser
import BotFleetKit
import ExampleSupport
import Foundation
import Pooling
import PostgresPool
import Redis
import SQLCore
import SQLitePool
import ServiceLifecycle
import Synchronization

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
            per query, the NullPool anti-pattern) show the difference. --processes N runs the bots \
            in N OS processes on the same database; with REDIS_URL set, their caches are tiered \
            (memory, then Redis) and shared, so the fleet fetches each market key once.

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

    @Option(help: "How many OS processes run the bots (each a share of them); with REDIS_URL they share one tiered cache.")
    var processes = 1

    @Option(help: "Cycles each bot runs before it stops (0: as many as --duration allows).")
    var cycles = 0

    @Option(help: .hidden)
    var workerIndex: Int?

    func validate() throws {
        guard bots > 0 else { throw ValidationError("--bots must be at least 1") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard cycleIntervalMs >= 0, exchangeMinMs >= 0, exchangeMaxMs >= exchangeMinMs else {
            throw ValidationError("intervals must not be negative and --exchange-max-ms must be at least --exchange-min-ms")
        }
        guard processes >= 1, processes <= bots else { throw ValidationError("--processes must be between 1 and --bots") }
        guard cycles >= 0 else { throw ValidationError("--cycles must not be negative") }
        if let workerIndex, !(0..<processes).contains(workerIndex) { throw ValidationError("--worker-index out of range") }
    }

    /// The bots process `index` of `processes` runs.
    static func share(of bots: Int, process index: Int, of processes: Int) -> Range<Int> {
        let lower = bots * index / processes
        return lower..<(bots * (index + 1) / processes)
    }

    func run() async throws {
        var pool = ExampleDatabase.quietPoolConfiguration()
        pool.maxConnections = 20
        pool.maxOverflow = 80
        pool.maxLifetime = .seconds(3600)
        pool.validation = .always
        pool.acquireTimeout = .seconds(30)
        var databasePath = database
        if processes > 1, workerIndex == nil, databasePath == nil, (ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "").isEmpty {
            // The processes share one SQLite file.
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-example-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            databasePath = folder.appendingPathComponent("example.sqlite").path
        }
        let store = try await ExampleDatabase.open(databasePath: databasePath, pool: pool)
        let redisURL = ProcessInfo.processInfo.environment["REDIS_URL"].flatMap { $0.isEmpty || noCache ? nil : $0 }
        let redis = try redisURL.map { try RedisClient(configuration: RedisConfiguration(url: $0)) }
        let isWorker = workerIndex != nil
        if !isWorker {
            print("bot-fleet: Keel rebuild of 0xBot's concurrent bots (reference 003)")
            print("database: \(store.location)")
            print("pool: \(store.isPostgres ? "20 connections + 80 overflow, pre-ping, recycle 1 h" : "SQLite: one writer, parallel readers")")
            let cache = noCache ? "off" : "market data 5 min, indicators 15 min, \(redis == nil ? "in each process (set REDIS_URL to share it)" : "tiered: memory, then Redis, shared by every process")"
            print("exchange: simulated, \(exchangeMinMs)-\(exchangeMaxMs) ms per call; cache: \(cache)\(naive ? "; naive: N+1 queries, a new connection per query" : "")")
            print("\(bots) bots in \(processes) process\(processes == 1 ? "" : "es") for \(duration) s\(cycles > 0 ? " or \(cycles) cycles each" : "")\n")
        }

        try await store.run { database in
            let fleetStore = naive ? FleetStore(connectingPerQuery: try Self.connectionOpener(for: store)) : FleetStore(pooled: database)
            let market = SimulatedMarket(latency: .milliseconds(exchangeMinMs)...(.milliseconds(exchangeMaxMs)))
            let fleet = try BotFleet(store: fleetStore, market: market, caching: !noCache, redis: redis, readsOnePositionAtATime: naive)
            try await withRedis(redis, services: fleet.cacheServices) {
                if !isWorker {
                    try await BotFleet.resetSchema(on: database)
                    try await BotFleet.seed(bots: bots, on: database)
                    // A run measures its own fetches: it starts from empty caches, in Redis too.
                    await fleet.marketCache?.removeAll()
                    await fleet.indicatorCache?.removeAll()
                }
                if processes > 1, !isWorker {
                    try await runProcesses(databasePath: databasePath)
                } else {
                    try await runBots(
                        workerIndex.map { Self.share(of: bots, process: $0, of: processes) } ?? 0..<bots, fleet: fleet,
                        fleetStore: fleetStore, store: store)
                }
            }
        }
    }

    /// Runs `body` with `redis` and `services` running, when there is a Redis; then shuts them down.
    func withRedis(_ redis: RedisClient?, services: [any Service], _ body: () async throws -> Void) async throws {
        guard let redis else { return try await body() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await redis.run() }
            for service in services { group.addTask { try await service.run() } }
            defer { group.cancelAll() }
            do {
                try await body()
            } catch {
                await redis.shutdown()
                throw error
            }
            await redis.shutdown()
        }
    }

    /// Starts `processes` copies of this program, each running its share of the bots on the same
    /// database (and Redis), and prints the fleet's figures from theirs.
    func runProcesses(databasePath: String?) async throws {
        var arguments = [
            "--bots", String(bots), "--duration", String(duration), "--cycle-interval-ms", String(cycleIntervalMs),
            "--exchange-min-ms", String(exchangeMinMs), "--exchange-max-ms", String(exchangeMaxMs),
            "--processes", String(processes), "--cycles", String(cycles),
        ]
        if noCache { arguments.append("--no-cache") }
        if naive { arguments.append("--naive") }
        if let databasePath { arguments += ["--database", databasePath] }
        let program = URL(fileURLWithPath: CommandLine.arguments[0])
        let start = ContinuousClock.now
        let reports = try await withThrowingTaskGroup(of: (Int, ProcessReport).self) { group in
            for index in 0..<processes {
                let processArguments = arguments + ["--worker-index", String(index)]
                group.addTask { (index, try await ProcessReport.run(program, arguments: processArguments)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }.sorted { $0.key < $1.key }.map(\.value)
        }
        let elapsed = ContinuousClock.now - start
        let total = reports.reduce(ProcessReport(), +)
        var table = TextTable(header: ["bot-fleet (\(processes) processes)", "value"])
        table.append(["bots", "\(bots)"])
        table.append(["cycles", "\(total.cycles) (\(String(format: "%.0f", Double(total.cycles) / (elapsed.milliseconds / 1000)))/s)"])
        table.append(["cycles per process", reports.map { String($0.cycles) }.joined(separator: " / ")])
        table.append(["failed cycles", "\(total.failures)"])
        table.append(["fleet cache hit rate", noCache ? "off" : String(format: "%.2f%% (%d lookups, %d fetches)", total.hitRate * 100, total.lookups, total.fetches)])
        table.append(["market-data fetches", "\(total.marketFetches) (per process: \(reports.map { String($0.marketFetches) }.joined(separator: " / ")))"])
        print(table.rendered)
        print("fleet: \(total.line)")
    }

    /// Runs `range`'s bots until the duration or the cycle count is reached, printing progress
    /// every second and a final table (a worker process prints one `process:` line instead).
    func runBots(_ range: Range<Int>, fleet: BotFleet, fleetStore: FleetStore, store: ExampleDatabase) async throws {
        let isWorker = workerIndex != nil
        let progress = FleetProgress()
        let start = ContinuousClock.now
        let deadline = start.advanced(by: .milliseconds(Int(duration * 1000)))
        progress.running.store(range.count, ordering: .relaxed)

        try await withThrowingTaskGroup(of: Void.self) { group in
            if !isWorker {
                group.addTask {
                    var second = 0
                    var previous = 0
                    while ContinuousClock.now < deadline, progress.running.load(ordering: .relaxed) > 0 {
                        second += 1
                        try await Task.sleep(until: start.advanced(by: .seconds(second)), clock: .continuous)
                        let done = progress.cycles.load(ordering: .relaxed)
                        let recent = fleetStore.latencies.takeRecent()
                        var line = "t=\(second)s cycles=\(done) (+\(done - previous)/s) query p50=\(Self.ms(recent.percentile(0.5))) p99=\(Self.ms(recent.percentile(0.99)))"
                        line += " cache hit \(String(format: "%.1f", fleet.cacheHitRatio * 100))%"
                        if let statistics = store.poolStatistics {
                            line += " pool checked-out \(statistics.inUse)/20 overflow \(statistics.overflowInUse)"
                        }
                        print(line)
                        previous = done
                    }
                }
            }
            for bot in range {
                group.addTask {
                    defer { progress.running.subtract(1, ordering: .relaxed) }
                    var iteration = 0
                    while ContinuousClock.now < deadline, cycles == 0 || iteration < cycles {
                        do {
                            let page = try await fleet.runCycle(bot: bot, iteration: iteration)
                            if bot == range.lowerBound { progress.lastPage.withLock { $0 = page } }
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

        let report = ProcessReport(
            cycles: progress.cycles.load(ordering: .relaxed), failures: progress.failures.load(ordering: .relaxed),
            lookups: fleet.cacheLookups, fetches: fleet.cacheFetches, marketFetches: fleet.marketDataFetches)
        if isWorker {
            print("process: \(report.line)")
            return
        }
        let elapsed = ContinuousClock.now - start
        let all = fleetStore.latencies.all
        let done = report.cycles
        var table = TextTable(header: ["bot-fleet", "value"])
        table.append(["bots", "\(bots)"])
        table.append(["cycles", "\(done) (\(String(format: "%.0f", Double(done) / (elapsed.milliseconds / 1000)))/s)"])
        table.append(["failed cycles", "\(report.failures)"])
        table.append(["queries", "\(fleetStore.statements) (\(String(format: "%.1f", Double(fleetStore.statements) / Double(max(1, done)))) per cycle)"])
        table.append(["query latency p50", Self.ms(all.percentile(0.5))])
        table.append(["query latency p99", Self.ms(all.percentile(0.99))])
        table.append(["cache hit rate", noCache ? "off" : String(format: "%.2f%% (%d lookups, %d fetches; reference target > 70%%)", report.hitRate * 100, report.lookups, report.fetches)])
        table.append(["market-data fetches", "\(report.marketFetches)"])
        if let page = progress.lastPage.withLock({ $0 }) {
            table.append(["bot 0's history", "page \(page.page) of \(page.pages), \(page.tradeIDs.count) of \(page.total) trades (limit \(page.limit))"])
        }
        if let statistics = store.poolStatistics {
            table.append(["pool", "open \(statistics.open), created \(statistics.created), waits \(statistics.waitCount), timeouts \(statistics.timeouts)"])
        }
        print("")
        print(table.rendered)
        print("fleet: \(report.line)")
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
