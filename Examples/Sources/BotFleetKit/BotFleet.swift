public import ExampleSupport
import Foundation
public import Migrations
public import Redis
public import ServiceLifecycle
public import SQLCore
import Synchronization

/// 0xBot's trading bots on Keel: every cycle a bot reads market data through a cache
/// (single-flight `value(for:orFetch:)`, 5-minute TTL; indicators 15 minutes), computes its
/// indicator, reads its positions with their latest equity snapshots in two queries, records a
/// trade and reads a page of its trade history. Given a Redis client, the caches are tiered and
/// shared by every process of the fleet on that Redis.
public final class BotFleet: Sendable {
    /// Where queries go.
    public let store: FleetStore
    /// The simulated exchange.
    public let market: SimulatedMarket
    /// OHLCV, funding rates and tickers, 5 minutes; `nil` with `--no-cache`.
    public let marketCache: ExampleCache<[Double]>?
    /// Indicators, 15 minutes; `nil` with `--no-cache`.
    public let indicatorCache: ExampleCache<Indicator>?
    /// Whether equity snapshots are read one query per position (N+1), as before the reference's fix.
    public let readsOnePositionAtATime: Bool
    /// Trades per history page (clamped to 1...1000).
    public let pageLimit: Int

    private let exchangeCalls = Atomic(0)

    /// A fleet over `store`; its caches tiered on `redis` when given.
    public init(
        store: FleetStore, market: SimulatedMarket, caching: Bool = true, redis: RedisClient? = nil,
        readsOnePositionAtATime: Bool = false, pageLimit: Int? = nil
    ) throws {
        self.store = store
        self.market = market
        marketCache = try caching ? ExampleCache(name: "bot-fleet-market", maximumCapacity: 10_000, timeToLive: .seconds(300), redis: redis) : nil
        indicatorCache = try caching ? ExampleCache(name: "bot-fleet-indicators", maximumCapacity: 10_000, timeToLive: .seconds(900), redis: redis) : nil
        self.readsOnePositionAtATime = readsOnePositionAtATime
        self.pageLimit = TradePage.clampedLimit(pageLimit)
    }

    /// The share of both caches' lookups that ran no fetch in this process (0 without caches).
    public var cacheHitRatio: Double {
        let lookups = cacheLookups
        return lookups == 0 ? 0 : 1 - Double(cacheFetches) / Double(lookups)
    }

    /// Lookups of both caches so far.
    public var cacheLookups: Int { (marketCache?.lookupCount ?? 0) + (indicatorCache?.lookupCount ?? 0) }
    /// Fetches both caches ran in this process so far (market data, and indicators computed).
    public var cacheFetches: Int { (marketCache?.fetchCount ?? 0) + (indicatorCache?.fetchCount ?? 0) }
    /// Calls this process made to the exchange's market-data API so far.
    public var marketDataFetches: Int { exchangeCalls.load(ordering: .relaxed) }

    /// The services of tiered caches (their invalidation subscriptions), to run beside the Redis
    /// client.
    public var cacheServices: [any Service] { [marketCache?.service, indicatorCache?.service].compactMap { $0 } }

    // MARK: Schema and data

    /// The schema's steps: positions, equity snapshots and trades.
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "positions, equity snapshots, trades") { dialect in
            let real = dialect.doubleColumn
            let identity = dialect.identityPrimaryKey
            return [
                "CREATE TABLE fleet_positions (id BIGINT PRIMARY KEY, bot_id BIGINT NOT NULL, symbol TEXT NOT NULL, size \(real) NOT NULL, entry_price \(real) NOT NULL)",
                "CREATE INDEX idx_fleet_positions_bot ON fleet_positions (bot_id)",
                "CREATE TABLE fleet_equity_snapshots (position_id BIGINT NOT NULL, taken_at BIGINT NOT NULL, equity \(real) NOT NULL, PRIMARY KEY (position_id, taken_at))",
                """
                CREATE TABLE fleet_trades (id \(identity), bot_id BIGINT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
                  price \(real) NOT NULL, quantity \(real) NOT NULL, executed_at BIGINT NOT NULL)
                """,
                "CREATE INDEX idx_fleet_trades_bot ON fleet_trades (bot_id, executed_at DESC)",
            ]
        },
    ]

    /// Starts from an empty fleet: drops the tables and the migrator's record of them, then
    /// creates them with Keel's migrator (its table: `fleet_schema_migrations`).
    public static func resetSchema(on database: any SQLDatabase) async throws {
        for table in ["fleet_trades", "fleet_equity_snapshots", "fleet_positions", "fleet_schema_migrations"] {
            try await database.execute("DROP TABLE IF EXISTS \(identifier: table)")
        }
        try await Migrator(migrations, table: "fleet_schema_migrations").migrate(database)
    }

    /// Gives each of `bots` bots `positions` positions with 3 equity snapshots each, and
    /// `trades` past trades, in multi-row inserts of 100.
    public static func seed(bots: Int, positions: Int = 5, trades: Int = 150, on database: any SQLDatabase) async throws {
        var positionRows: [[SQLValue]] = []
        var snapshotRows: [[SQLValue]] = []
        var tradeRows: [[SQLValue]] = []
        for bot in 0..<bots {
            let symbol = SimulatedMarket.symbols[bot % SimulatedMarket.symbols.count]
            for index in 0..<positions {
                let id = Int64(bot * positions + index)
                positionRows.append([.int64(id), .int64(Int64(bot)), .text(symbol), .double(0.1 * Double(index + 1)), .double(100 + Double(index))])
                for taken in 0..<3 {
                    snapshotRows.append([.int64(id), .int64(Int64(taken)), .double(1_000 + Double(taken * 10 + index))])
                }
            }
            for trade in 0..<trades {
                tradeRows.append([.int64(Int64(bot)), .text(symbol), .text(trade % 2 == 0 ? "buy" : "sell"), .double(100), .double(0.01), .int64(Int64(trade))])
            }
        }
        try await insert(positionRows, into: "fleet_positions (id, bot_id, symbol, size, entry_price)", on: database)
        try await insert(snapshotRows, into: "fleet_equity_snapshots (position_id, taken_at, equity)", on: database)
        try await insert(tradeRows, into: "fleet_trades (bot_id, symbol, side, price, quantity, executed_at)", on: database)
    }

    private static func insert(_ rows: [[SQLValue]], into target: String, on database: any SQLDatabase) async throws {
        for start in stride(from: 0, to: rows.count, by: 100) {
            let values = rows[start..<min(start + 100, rows.count)].map { row -> SQLStatement in "(\(list: row))" }
            try await database.execute("INSERT INTO \(unsafeRaw: target) VALUES \(values.joined(separator: ", "))")
        }
    }

    // MARK: A bot's cycle

    /// One cycle of bot `bot` (its `iteration`-th): market data, indicator, positions, a trade,
    /// a page of history. Returns the page read.
    public func runCycle(bot: Int, iteration: Int) async throws -> TradePage {
        let symbol = SimulatedMarket.symbols[bot % SimulatedMarket.symbols.count]
        let market = market
        async let closes = marketData("cache:market:\(symbol):1h") { try await market.ohlcv(symbol) }
        async let funding = marketData("cache:funding:\(symbol)") { [try await market.fundingRate(symbol)] }
        async let ticker = marketData("cache:ticker:\(symbol)") { [try await market.ticker(symbol)] }
        let (candles, rates, prices) = try await (closes, funding, ticker)
        let indicator = try await indicator("cache:indicator:ema-rsi:\(symbol):1h", closes: candles)

        // Positions, then the latest equity snapshot of all of them: two queries, not N+1.
        let positions = try await store.query("SELECT id, size FROM fleet_positions WHERE bot_id = \(bot) ORDER BY id")
        let ids = positions.map { $0[0] }
        if readsOnePositionAtATime {
            for id in ids {
                try await store.query("SELECT equity FROM fleet_equity_snapshots WHERE position_id = \(id) ORDER BY taken_at DESC LIMIT 1")
            }
        } else if !ids.isEmpty {
            try await store.query("""
                SELECT s.position_id, s.equity FROM fleet_equity_snapshots s
                WHERE s.position_id IN (\(list: ids))
                  AND s.taken_at = (SELECT max(m.taken_at) FROM fleet_equity_snapshots m WHERE m.position_id = s.position_id)
                """)
        }

        let side = indicator.rsi < 50 || prices[0] < indicator.ema ? "buy" : "sell"
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try await store.query("""
            INSERT INTO fleet_trades (bot_id, symbol, side, price, quantity, executed_at)
            VALUES (\(bot), \(symbol), \(side), \(prices[0] * (1 + rates[0])), \(0.01), \(now))
            """)

        let total = try await store.query("SELECT count(*) FROM fleet_trades WHERE bot_id = \(bot)")[0].decode(Int.self, at: 0)
        let pages = max(1, (total + pageLimit - 1) / pageLimit)
        let page = iteration % pages + 1
        let rows = try await store.query("""
            SELECT id FROM fleet_trades WHERE bot_id = \(bot) ORDER BY executed_at DESC, id DESC
            LIMIT \(pageLimit) OFFSET \((page - 1) * pageLimit)
            """)
        return TradePage(tradeIDs: try rows.map { try $0.decode(Int64.self, at: 0) }, total: total, page: page, pages: pages, limit: pageLimit)
    }

    private func marketData(_ key: String, _ fetch: @escaping @Sendable () async throws -> [Double]) async throws -> [Double] {
        let counted: @Sendable () async throws -> [Double] = { [self] in
            self.exchangeCalls.add(1, ordering: .relaxed)
            return try await fetch()
        }
        guard let marketCache else { return try await counted() }
        return try await marketCache.value(for: key, orFetch: counted)
    }

    private func indicator(_ key: String, closes: [Double]) async throws -> Indicator {
        guard let indicatorCache else { return Indicator(closes: closes) }
        return try await indicatorCache.value(for: key) { Indicator(closes: closes) }
    }
}
