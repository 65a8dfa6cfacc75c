import ArgumentParser
import ExampleSupport
import Foundation
import SQLitePool
import TokenRegistryKit

/// `token-registry`: the trading bot's exchange token registry (reference 001) on Keel.
@main
struct TokenRegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token-registry",
        abstract: "Syncs exchange futures tokens into a database with Keel's batching, cache and retry.",
        discussion: """
            Rebuilds the trading bot's token registry (reference document 001): loads every known token \
            in one query, builds all records in memory, upserts 100 per transaction (Batching.Upsert), \
            logs history events in batches, marks delisted tokens by set difference (KeyedUpdate), \
            updates the cache with one insert(contentsOf:) call (Cache), and retries "database is \
            locked" with exponential back-off (CircuitBreaker.retry). Prints the reference's phase \
            breakdown. --compare also runs the naive version (one lookup and one upsert per token).

            The exchange API is simulated in-process. Runs on SQLite (a temporary file, WAL, \
            cache_size -10000, mmap_size 30000000000) unless DATABASE_URL names a PostgreSQL database.
            """)

    @Option(help: "How many futures tokens the simulated exchange lists (the reference measured 100, 500, 1000, 5000).")
    var tokens = 530

    @Option(help: "A SQLite file to use instead of a temporary one (ignores DATABASE_URL).")
    var database: String?

    @Flag(help: "Also run the naive version (one lookup and one upsert per token) and print both side by side.")
    var compare = false

    @Option(help: "How many syncs to run; tokens list and delist between cycles.")
    var cycles = 1

    @Option(help: "Seconds to wait between syncs.")
    var syncInterval: Double = 0

    @Option(help: "The simulated exchange API's latency, in milliseconds.")
    var apiLatencyMs = 250

    @Option(help: "Rows per transaction.")
    var batchSize = 100

    func validate() throws {
        guard tokens > 0 else { throw ValidationError("--tokens must be at least 1") }
        guard cycles > 0 else { throw ValidationError("--cycles must be at least 1") }
        guard syncInterval >= 0 else { throw ValidationError("--sync-interval must not be negative") }
        guard apiLatencyMs >= 0 else { throw ValidationError("--api-latency-ms must not be negative") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() async throws {
        let store = try await ExampleDatabase.open(databasePath: database) { sqlite in
            sqlite.journalMode = .wal
            sqlite.cacheSize = -10_000
            sqlite.mmapSize = 30_000_000_000
        }
        print("token-registry: Keel rebuild of the trading bot's token registry (reference 001)")
        print("database: \(store.location)")
        print("exchange: simulated KuCoin futures API, \(tokens) tokens, \(apiLatencyMs) ms latency per call (simulated)")
        let exchange = SimulatedExchange(tokenCount: tokens, latency: .milliseconds(apiLatencyMs))

        try await store.run { database in
            let registry = try TokenRegistry(database: database, batchSize: batchSize)
            try await registry.resetSchema()
            var firstSync: SyncReport?
            var lockedRetries = 0
            for cycle in 0..<cycles {
                if cycle > 0 && syncInterval > 0 { try await Task.sleep(for: .milliseconds(Int(syncInterval * 1000))) }
                let apiStart = ContinuousClock.now
                let listing = try await exchange.fetchTokens(cycle: cycle)
                let api = ContinuousClock.now - apiStart
                let report = try await registry.sync(listing, at: Self.now())
                if firstSync == nil { firstSync = report }
                lockedRetries += report.lockedRetries
                print("")
                print("sync \(cycle + 1)/\(cycles): \(report.listed) listed, \(report.newListings.count) new, \(report.updated) updated, \(report.delisted.count) delisted, \(report.historyEvents) history events, \(report.statements) statements")
                Self.printBreakdown(api: api, report: report)
                Self.printListings("new listings", report.newListings, badge: "NEW")
                Self.printListings("delisted", report.delisted, badge: "DELISTED")
            }
            let known = try await registry.loadAll()
            let statistics = registry.cache.statistics
            print("")
            print("registry: \(known.values.filter { $0.status == "active" }.count) active, \(known.values.filter { $0.status == "delisted" }.count) delisted, \(try await registry.historyCount()) history events")
            print("cache: \(statistics.count) entries; \"database is locked\" retries: \(lockedRetries)")
            if let pool = store.poolStatistics { print("pool: \(pool)") }

            if compare, let batched = firstSync {
                // The naive version on fresh tables and a fresh cache, with the same first listing.
                let naiveRegistry = try TokenRegistry(database: database, batchSize: batchSize)
                try await naiveRegistry.resetSchema()
                let listing = SimulatedExchange.listing(tokenCount: tokens, cycle: 0)
                let naive = try await naiveRegistry.naiveSync(listing, at: Self.now())
                Self.printComparison(batched: batched, naive: naive)
            }
        }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// The reference's "⚡ PERFORMANCE" block.
    static func printBreakdown(api: Duration, report: SyncReport) {
        let timings = report.timings
        print("PERFORMANCE: Total sync time: \((api + timings.total).formattedMilliseconds)")
        print("  - API: \(api.formattedMilliseconds) (simulated)")
        print("  - DB: \(timings.duration(of: "DB load").formattedMilliseconds)")
        print("  - Process: \(timings.duration(of: "process").formattedMilliseconds)")
        print("  - Batch: \(timings.duration(of: "batch write").formattedMilliseconds)")
        print("  - Cache: \(timings.duration(of: "cache update").formattedMilliseconds)")
    }

    /// The first ten, then "... and N more", as the reference logs them.
    static func printListings(_ title: String, _ symbols: [String], badge: String) {
        guard !symbols.isEmpty else { return }
        print("\(title) (\(symbols.count)):")
        for symbol in symbols.prefix(10) { print("  \(badge) \(symbol)") }
        if symbols.count > 10 { print("  ... and \(symbols.count - 10) more") }
    }

    static func printComparison(batched: SyncReport, naive: SyncReport) {
        let batchedDB = batched.timings.duration(of: "DB load") + batched.timings.duration(of: "process")
            + batched.timings.duration(of: "batch write")
        let naiveDB = naive.timings.duration(of: "row writes")
        var table = TextTable(header: ["first sync of \(batched.listed) tokens", "Keel (batched)", "naive (row by row)", "speed-up"])
        func ratio(_ slow: Duration, _ fast: Duration) -> String {
            fast > .zero ? String(format: "%.1fx", slow.milliseconds / fast.milliseconds) : "-"
        }
        table.append(["database phases", batchedDB.formattedMilliseconds, naiveDB.formattedMilliseconds, ratio(naiveDB, batchedDB)])
        let batchedCache = batched.timings.duration(of: "cache update")
        let naiveCache = naive.timings.duration(of: "cache update")
        table.append(["cache update", batchedCache.formattedMilliseconds, naiveCache.formattedMilliseconds, ratio(naiveCache, batchedCache)])
        table.append(["SQL statements", "\(batched.statements)", "\(naive.statements)", ""])
        print("")
        print(table.rendered)
    }
}
