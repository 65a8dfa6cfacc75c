import Batching
import Cache
import CircuitBreaker
import ExampleSupport
public import Migrations
public import SQLCore
import SQLitePool
import Synchronization

/// The trading bot's token registry on Keel: keeps `registry_tokens`, its history and an
/// in-memory cache in step with the exchange's listing.
///
/// ``sync(_:at:)`` is the reference's optimised sync: one query loads every known token, records
/// are built in memory, then written 100 per transaction with Keel's `Upsert`, delistings found by
/// set difference and marked with one `KeyedUpdate`, and the cache updated with one
/// `insert(contentsOf:)`. ``naiveSync(_:at:)`` is the "before" version: one lookup and one upsert
/// per token.
public final class TokenRegistry: Sendable {
    /// The table of tokens.
    public static let tokensTable = "registry_tokens"
    /// The table of history events.
    public static let historyTable = "registry_token_history"

    /// The database.
    public let database: any SQLDatabase
    /// The in-memory view of the registry, by symbol.
    public let cache: Cache<String, TokenRecord, ContinuousClock>
    /// Rows per transaction. Default 100, as the reference.
    public let batchSize: Int
    private let lockedRetries = Atomic<Int>(0)

    /// A registry on `database` whose cache holds up to `cacheCapacity` tokens.
    public init(database: any SQLDatabase, batchSize: Int = 100, cacheCapacity: Int = 20_000) throws {
        self.database = database
        self.batchSize = batchSize
        cache = try Cache(maximumCapacity: cacheCapacity, timeToLive: .seconds(24 * 3600))
    }

    // MARK: Schema

    /// The schema's steps: the two tables with the reference's indices (the partial ones included).
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "tokens and their history") { dialect in
            let longText = dialect.doubleColumn
            return [
                """
                CREATE TABLE registry_tokens (
                  symbol TEXT PRIMARY KEY, base_currency TEXT NOT NULL, quote_currency TEXT NOT NULL,
                  status TEXT NOT NULL, is_new INTEGER NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL,
                  max_leverage BIGINT NOT NULL, tick_size \(longText) NOT NULL)
                """,
                "CREATE INDEX idx_registry_tokens_status ON registry_tokens (status, last_seen DESC)",
                "CREATE INDEX idx_registry_tokens_is_new ON registry_tokens (is_new, first_seen DESC) WHERE is_new = 1",
                "CREATE INDEX idx_registry_tokens_status_active ON registry_tokens (status, last_seen DESC) WHERE status = 'active'",
                """
                CREATE TABLE registry_token_history (
                  symbol TEXT NOT NULL, event TEXT NOT NULL, event_time BIGINT NOT NULL, detail TEXT NOT NULL,
                  PRIMARY KEY (symbol, event_time, event))
                """,
                "CREATE INDEX idx_registry_token_history_symbol ON registry_token_history (symbol, event_time DESC)",
            ]
        },
    ]

    /// Starts from an empty registry: drops the tables and the migrator's record of them, then
    /// creates them with Keel's migrator (its table: `registry_schema_migrations`).
    public func resetSchema() async throws {
        for table in ["registry_token_history", "registry_tokens", "registry_schema_migrations"] {
            try await database.execute("DROP TABLE IF EXISTS \(identifier: table)")
        }
        try await Migrator(Self.migrations, table: "registry_schema_migrations").migrate(database)
    }

    // MARK: The optimised sync

    /// Brings the registry in step with `listing` at time `now` (milliseconds since 1970).
    public func sync(_ listing: [ExchangeToken], at now: Int64) async throws -> SyncReport {
        var report = SyncReport()
        var timings = PhaseTimings()
        report.listed = listing.count
        let retriesBefore = lockedRetries.load(ordering: .relaxed)

        // One query for every known token, into a dictionary.
        let known = try await timings.measure("DB load") { try await loadAll() }
        report.statements += 1

        // Every record and event built in memory: no I/O in the loop.
        var built = SyncReport()
        let (records, events, delisted) = timings.measureNow("process") {
            build(listing, known: known, now: now, into: &built)
        }
        report.newListings = built.newListings
        report.updated = built.updated
        report.delisted = built.delisted

        try await timings.measure("batch write") {
            var upsert = Upsert(
                table: Self.tokensTable,
                columns: ["symbol", "base_currency", "quote_currency", "status", "is_new", "first_seen", "last_seen",
                          "max_leverage", "tick_size"],
                conflictColumns: ["symbol"])
            upsert.chunkSize = batchSize
            upsert.usesFastPath = false  // 100 rows per transaction, as the reference
            let written = try await retryingLocked { try await upsert.run(records.map(Self.values), on: database) }
            report.statements += written.chunks

            var history = Upsert(
                table: Self.historyTable, columns: ["symbol", "event", "event_time", "detail"],
                conflictColumns: ["symbol", "event_time", "event"])
            history.action = .doNothing
            history.chunkSize = batchSize
            history.usesFastPath = false
            let logged = try await retryingLocked { try await history.run(events, on: database) }
            report.statements += logged.chunks
            report.historyEvents = events.count

            if !delisted.isEmpty {
                var delist = KeyedUpdate(
                    table: Self.tokensTable, keyColumn: "symbol", values: ["status": .text("delisted"), "is_new": .int64(0)])
                delist.condition = "status <> 'delisted'"
                _ = try await retryingLocked { try await delist.run(keys: delisted, on: database) }
                report.statements += 1
            }
        }

        // One cache call for all updates (one lock per shard), delistings included.
        timings.measureNow("cache update") {
            var entries = records.map { ($0.symbol, $0) }
            for symbol in delisted {
                if var record = known[symbol] {
                    record.status = "delisted"
                    record.isNew = false
                    entries.append((symbol, record))
                }
            }
            cache.insert(contentsOf: entries)
        }
        report.lockedRetries = lockedRetries.load(ordering: .relaxed) - retriesBefore
        report.timings = timings
        return report
    }

    /// The records to upsert, the history events and the symbols to delist.
    private func build(
        _ listing: [ExchangeToken], known: [String: TokenRecord], now: Int64, into report: inout SyncReport
    ) -> ([TokenRecord], [[SQLValue]], [String]) {
        var records: [TokenRecord] = []
        records.reserveCapacity(listing.count)
        var events: [[SQLValue]] = []
        for token in listing {
            if let existing = known[token.symbol] {
                var record = existing
                if existing.status == "delisted" {
                    events.append([.text(token.symbol), .text("relisted"), .int64(now), .text("listed again")])
                }
                record.status = "active"
                record.isNew = false
                record.lastSeen = now
                record.maxLeverage = token.maxLeverage
                record.tickSize = token.tickSize
                records.append(record)
                report.updated += 1
            } else {
                records.append(TokenRecord(
                    symbol: token.symbol, baseCurrency: token.baseCurrency, quoteCurrency: "USDT", status: "active",
                    isNew: true, firstSeen: now, lastSeen: now, maxLeverage: token.maxLeverage, tickSize: token.tickSize))
                events.append([.text(token.symbol), .text("listed"), .int64(now), .text("max leverage \(token.maxLeverage)x")])
                report.newListings.append(token.symbol)
            }
        }
        // Set difference: known active symbols the exchange no longer lists.
        let listed = Set(listing.map(\.symbol))
        let delisted = known.values.filter { $0.status == "active" && !listed.contains($0.symbol) }.map(\.symbol).sorted()
        for symbol in delisted {
            events.append([.text(symbol), .text("delisted"), .int64(now), .text("no longer listed")])
        }
        report.delisted = delisted
        return (records, events, delisted)
    }

    // MARK: The naive sync

    /// The "before" version: for each token one lookup and one single-row upsert (and one insert
    /// per history event), then one update per delisted token, and one cache insert per token.
    public func naiveSync(_ listing: [ExchangeToken], at now: Int64) async throws -> SyncReport {
        var report = SyncReport()
        var timings = PhaseTimings()
        report.listed = listing.count
        var cached: [(String, TokenRecord)] = []
        try await timings.measure("row writes") {
            for token in listing {
                let rows = try await database.query("SELECT \(unsafeRaw: Self.columnList) FROM registry_tokens WHERE symbol = \(token.symbol)")
                report.statements += 1
                let existing = try rows.first.map(Self.record)
                var record = existing ?? TokenRecord(
                    symbol: token.symbol, baseCurrency: token.baseCurrency, quoteCurrency: "USDT", status: "active",
                    isNew: true, firstSeen: now, lastSeen: now, maxLeverage: token.maxLeverage, tickSize: token.tickSize)
                if existing != nil {
                    record.status = "active"
                    record.isNew = false
                    record.lastSeen = now
                    report.updated += 1
                } else {
                    report.newListings.append(token.symbol)
                }
                let values = Self.values(record)
                try await retryingLocked {
                    try await database.execute("""
                        INSERT INTO registry_tokens (\(unsafeRaw: Self.columnList)) VALUES (\(list: values))
                        ON CONFLICT (symbol) DO UPDATE SET status = EXCLUDED.status, is_new = EXCLUDED.is_new,
                          last_seen = EXCLUDED.last_seen, max_leverage = EXCLUDED.max_leverage, tick_size = EXCLUDED.tick_size
                        """)
                }
                report.statements += 1
                if existing == nil {
                    try await retryingLocked {
                        try await database.execute("""
                            INSERT INTO registry_token_history (symbol, event, event_time, detail)
                            VALUES (\(token.symbol), 'listed', \(now), \("max leverage \(token.maxLeverage)x")) ON CONFLICT DO NOTHING
                            """)
                    }
                    report.statements += 1
                    report.historyEvents += 1
                }
                cached.append((token.symbol, record))
            }
            // Delistings: the active symbols, then a search of the listing for each (nested loops).
            let active = try await database.query("SELECT symbol FROM registry_tokens WHERE status = 'active'")
            report.statements += 1
            for row in active {
                let symbol = try row.decode(String.self, at: 0)
                guard !listing.contains(where: { $0.symbol == symbol }) else { continue }
                try await retryingLocked {
                    try await database.execute("UPDATE registry_tokens SET status = 'delisted', is_new = 0 WHERE symbol = \(symbol)")
                }
                report.statements += 1
                report.delisted.append(symbol)
            }
        }
        // One cache call, so one lock acquisition, per token.
        timings.measureNow("cache update") {
            for (symbol, record) in cached { cache.insert(record, for: symbol) }
        }
        report.timings = timings
        return report
    }

    // MARK: Reading

    static let columnList =
        "symbol, base_currency, quote_currency, status, is_new, first_seen, last_seen, max_leverage, tick_size"

    /// Every token, by symbol.
    public func loadAll() async throws -> [String: TokenRecord] {
        let rows = try await database.query("SELECT \(unsafeRaw: Self.columnList) FROM registry_tokens")
        var tokens: [String: TokenRecord] = [:]
        tokens.reserveCapacity(rows.count)
        for row in rows {
            let record = try Self.record(row)
            tokens[record.symbol] = record
        }
        return tokens
    }

    /// How many history events the table holds.
    public func historyCount() async throws -> Int {
        try await database.query("SELECT count(*) FROM registry_token_history")[0].decode(Int.self, at: 0)
    }

    static func record(_ row: SQLRow) throws -> TokenRecord {
        TokenRecord(
            symbol: try row.decode(String.self, at: 0), baseCurrency: try row.decode(String.self, at: 1),
            quoteCurrency: try row.decode(String.self, at: 2), status: try row.decode(String.self, at: 3),
            isNew: try row.decode(Int64.self, at: 4) == 1, firstSeen: try row.decode(Int64.self, at: 5),
            lastSeen: try row.decode(Int64.self, at: 6), maxLeverage: try row.decode(Int64.self, at: 7),
            tickSize: try row.decode(Double.self, at: 8))
    }

    static func values(_ record: TokenRecord) -> [SQLValue] {
        [.text(record.symbol), .text(record.baseCurrency), .text(record.quoteCurrency), .text(record.status),
         .int64(record.isNew ? 1 : 0), .int64(record.firstSeen), .int64(record.lastSeen), .int64(record.maxLeverage),
         .double(record.tickSize)]
    }

    // MARK: Locked database

    /// Retries "database is locked" three times with 100 ms × 2^attempt, as the reference.
    @discardableResult
    private func retryingLocked<Result>(_ body: () async throws -> Result) async throws -> Result {
        var policy = RetryPolicy.databaseLocked { ($0 as? SQLiteError)?.isBusy ?? false }
        let isLocked = policy.shouldRetry
        policy.shouldRetry = { [self] error in
            guard isLocked(error) else { return false }
            lockedRetries.add(1, ordering: .relaxed)
            return true
        }
        return try await retry(policy, body)
    }
}
