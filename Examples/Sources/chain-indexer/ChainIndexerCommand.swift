import ArgumentParser
import ChainIndexerKit
import ExampleSupport
import Foundation
import RateLimit
import Redis
import RedisRateLimit
import Synchronization

/// `chain-indexer`: the Go blockchain indexer's Phase 3 (reference 002) on Keel.
@main
struct ChainIndexerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chain-indexer",
        abstract: "Indexes a simulated chain with parallel RPC calls behind a circuit breaker, then batch upserts.",
        discussion: """
            Rebuilds the blockchain indexer's Phase 3 (reference document 002): fetches the events of a \
            ledger range, then the transactions they reference through a simulated RPC with bounded \
            parallelism (RateLimit), every call behind a circuit breaker (CircuitBreaker) that logs its \
            state changes, then batch-upserts events, transactions and operations (Batching). Runs the \
            reference's scenario, 1,000 events referencing 200 transactions at 100 ms per RPC call, \
            first the "before" way (one call at a time, one upsert per row) and then Keel's way, and \
            prints both side by side with the pool statistics. --rpc-outage makes the RPC fail for a \
            while: the breaker opens, the indexer backs off, and resumes when the RPC recovers.

            The RPC is simulated in-process. Runs on SQLite (a temporary file) unless DATABASE_URL \
            names a PostgreSQL database. With REDIS_URL (redis://[user:password@]host:port/db), every \
            chain-indexer process on that Redis also shares one limit of --concurrency RPC calls in \
            flight (RedisConcurrencyLimit); without, each process has its own worker pool only.
            """)

    @Option(help: "Events in the indexed range.")
    var events = 1_000

    @Option(help: "Distinct transactions the events reference.")
    var transactions = 200

    @Option(help: "RPC calls in flight at once (the worker pool's size).")
    var concurrency = 10

    @Option(help: "Rows per upsert statement.")
    var batchSize = 100

    @Option(help: "The simulated RPC's latency per transaction, in milliseconds.")
    var rpcLatencyMs = 100

    @Option(help: "The simulated latency of the call that lists the events, in milliseconds.")
    var eventsLatencyMs = 200

    @Option(help: "The share of RPC calls that fail, 0 to 1 (failed calls are retried with back-off).")
    var errorRate = 0.0

    @Option(help: "Seconds (\"5\" or \"5s\") during which the RPC fails every call, starting 0.5 s into the fetches; skips the sequential run.")
    var rpcOutage: String?

    @Flag(help: "Skip the sequential \"before\" run.")
    var skipSequential = false

    @Option(help: "A SQLite file to use instead of a temporary one (ignores DATABASE_URL).")
    var database: String?

    var outage: Duration? {
        guard let rpcOutage else { return nil }
        let digits = rpcOutage.hasSuffix("s") ? String(rpcOutage.dropLast()) : rpcOutage
        return Double(digits).map { .milliseconds(Int($0 * 1000)) }
    }

    func validate() throws {
        guard events > 0, transactions > 0, transactions <= events else {
            throw ValidationError("--events and --transactions must be positive, with no more transactions than events")
        }
        guard concurrency > 0, batchSize > 0 else { throw ValidationError("--concurrency and --batch-size must be at least 1") }
        guard rpcLatencyMs >= 0, eventsLatencyMs >= 0 else { throw ValidationError("latencies must not be negative") }
        guard (0...1).contains(errorRate) else { throw ValidationError("--error-rate must be between 0 and 1") }
        if rpcOutage != nil, (outage ?? .zero) <= .zero {
            throw ValidationError("--rpc-outage must be a positive number of seconds, such as 5s")
        }
    }

    func run() async throws {
        var pool = ExampleDatabase.quietPoolConfiguration()
        pool.maxConnections = 25  // the reference's low-traffic MaxOpenConns
        pool.maxLifetime = .seconds(1800)
        pool.idleTimeout = .seconds(300)
        let store = try await ExampleDatabase.open(databasePath: database, pool: pool)
        print("chain-indexer: Keel rebuild of the blockchain indexer's Phase 3 (reference 002)")
        print("database: \(store.location)")
        print("RPC: simulated, \(rpcLatencyMs) ms per transaction, error rate \(errorRate), events listed in one \(eventsLatencyMs) ms call")
        print("scenario: \(events) events referencing \(transactions) transactions; \(concurrency) workers; batches of \(batchSize)")

        var redis: RedisClient?
        if let url = ProcessInfo.processInfo.environment["REDIS_URL"], !url.isEmpty {
            let configuration = try RedisConfiguration(url: url)
            redis = try RedisClient(configuration: configuration)
            print("rate limits: fleet-wide, at most \(concurrency) RPC calls in flight across every process on Redis at \(configuration.host):\(configuration.port)")
        } else {
            print("rate limits: in-process, \(concurrency) RPC calls in flight (set REDIS_URL to share them across processes)")
        }
        guard let redis else { return try await index(store, fleetLimit: nil) }
        // Redis runs beside the indexing and is shut down after it, whether it succeeds or fails.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await redis.run() }
            do {
                let limit = try RedisConcurrencyLimit(name: "chain-indexer:rpc", maxHolders: concurrency, client: redis)
                try await index(store, fleetLimit: limit)
            } catch {
                await redis.shutdown()
                throw error
            }
            await redis.shutdown()
            try await group.waitForAll()
        }
    }

    /// Runs the scenario on `store`: the sequential "before" run, then Keel's, and the report.
    func index(_ store: ExampleDatabase, fleetLimit: (any PermitLimiting)?) async throws {
        try await store.run { database in
            var before: IndexReport?
            if !skipSequential && outage == nil {
                let chain = makeChain(outage: nil)
                let indexer = try ChainIndexer(database: database, chain: chain, concurrency: 1, batchSize: batchSize, log: { print($0) })
                try await indexer.resetSchema()
                print("\nbefore: one RPC call at a time, one upsert per row...")
                before = try await indexer.indexSequentially()
            }
            let chain = makeChain(outage: outage.map { (start: .milliseconds(Int64(eventsLatencyMs) + 500), length: $0) })
            let indexer = try ChainIndexer(
                database: database, chain: chain, concurrency: concurrency, batchSize: batchSize, fleetLimit: fleetLimit,
                log: { print($0) })
            try await indexer.resetSchema()
            print("\nafter: \(concurrency) RPC calls at a time behind a circuit breaker, batched upserts...")
            if let outage { print("simulated RPC outage of \(outage) starting 0.5 s into the fetches") }
            let after = try await indexer.index()
            let stored = try await indexer.storedCounts()

            print("")
            print(Self.comparison(before: before, after: after, concurrency: concurrency, batchSize: batchSize).rendered)
            print("")
            print("stored: \(stored.events) events, \(stored.transactions) transactions, \(stored.operations) operations")
            print("RPC: \(after.rpcCalls) calls, \(after.rpcFailures) failed (retried), \(after.rejectedByBreaker) refused by the open breaker; breaker now \(indexer.breaker.state)")
            let limiter = indexer.limiter.statistics
            print("rate limiter: \(limiter.acquired) permits, \(limiter.waited) waited, longest wait \(limiter.maxWait.formattedMilliseconds)")
            if let statistics = store.poolStatistics {
                print("pool: open \(statistics.open), in use \(statistics.inUse), idle \(statistics.idle), wait count \(statistics.waitCount), wait duration \(statistics.totalWaitDuration.formattedMilliseconds)")
            } else {
                print("pool: SQLite: one writer connection and parallel readers (SQLitePool)")
            }
        }
    }

    func makeChain(outage: (start: Duration, length: Duration)?) -> SimulatedChain {
        SimulatedChain(
            eventCount: events, transactionCount: transactions, rpcLatency: .milliseconds(rpcLatencyMs),
            eventsLatency: .milliseconds(eventsLatencyMs), errorRate: errorRate, outage: outage)
    }

    /// The reference's "23 s -> 2.4 s" table, measured.
    static func comparison(before: IndexReport?, after: IndexReport, concurrency: Int, batchSize: Int) -> TextTable {
        var table = TextTable(header: [
            "phase", "before: sequential, row by row", "after: \(concurrency) workers, batches of \(batchSize)", "speed-up",
        ])
        let phases = [
            ("fetch events", "fetch events"), ("fetch \(after.transactions) transactions", "fetch transactions"),
            ("upsert \(after.events) events", "upsert events"),
            ("upsert \(after.transactions) transactions + \(after.operations) operations", "upsert transactions"),
        ]
        func cell(_ duration: Duration?) -> String { duration?.formattedMilliseconds ?? "(skipped)" }
        func ratio(_ slow: Duration?, _ fast: Duration) -> String {
            guard let slow, fast > .zero else { return "" }
            return String(format: "%.1fx", slow.milliseconds / fast.milliseconds)
        }
        for (title, name) in phases {
            let old = before?.timings.duration(of: name)
            let new = after.timings.duration(of: name)
            table.append([title, cell(old), cell(new), ratio(old, new)])
        }
        table.append(["total", cell(before?.timings.total), cell(after.timings.total), ratio(before?.timings.total, after.timings.total)])
        table.append(["reference (Go, 1,000 events, 200 txs)", "22600.00ms", "2380.00ms", "9.5x"])
        return table
    }
}
