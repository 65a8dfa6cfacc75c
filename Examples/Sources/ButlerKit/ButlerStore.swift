import Batching
import ExampleSupport
import Foundation
public import Migrations
public import SQLCore

/// crypto-butler's tables and queries, on PostgreSQL or SQLite.
public struct ButlerStore: Sendable {
    /// The database.
    public let database: any SQLDatabase

    /// A store on `database`.
    public init(database: any SQLDatabase) {
        self.database = database
    }

    /// The schema's steps, applied by ``migrate()``.
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "portfolios, holdings, prices, rankings, contracts, balances") { dialect in
            let real = dialect.doubleColumn
            let identity = dialect.identityPrimaryKey
            return [
                "CREATE TABLE butler_portfolios (id \(identity), owner TEXT NOT NULL, name TEXT NOT NULL)",
                "CREATE INDEX idx_butler_portfolios_owner ON butler_portfolios (owner, id)",
                """
                CREATE TABLE butler_holdings (portfolio_id BIGINT NOT NULL REFERENCES butler_portfolios (id) ON DELETE CASCADE,
                  coin TEXT NOT NULL, amount \(real) NOT NULL, PRIMARY KEY (portfolio_id, coin))
                """,
                "CREATE TABLE butler_prices (coin TEXT PRIMARY KEY, usd \(real) NOT NULL)",
                "CREATE TABLE butler_rankings (coin TEXT PRIMARY KEY, rank BIGINT NOT NULL, market_cap \(real) NOT NULL)",
                "CREATE TABLE butler_contracts (chain TEXT NOT NULL, address TEXT NOT NULL, coin TEXT NOT NULL, PRIMARY KEY (chain, address))",
                "CREATE TABLE butler_balances (wallet TEXT NOT NULL, chain TEXT NOT NULL, balance \(real) NOT NULL, PRIMARY KEY (wallet, chain))",
            ]
        },
    ]

    /// Brings the tables up to date with Keel's migrator (its table: `butler_schema_migrations`).
    @discardableResult
    public func migrate() async throws -> MigrationReport {
        try await Migrator(Self.migrations, table: "butler_schema_migrations").migrate(database)
    }

    /// Empties every table (tests and demos start clean).
    public func reset() async throws {
        for table in ["butler_holdings", "butler_portfolios", "butler_prices", "butler_rankings", "butler_contracts", "butler_balances"] {
            try await database.execute("DELETE FROM \(identifier: table)")
        }
    }

    // MARK: Portfolios

    /// The portfolios of `owner` with their holdings, in one query.
    public func portfolios(of owner: String) async throws -> [Portfolio] {
        try await portfolios(of: owner, matching: "TRUE")
    }

    /// The portfolio `id` if `owner` owns it.
    public func portfolio(_ id: Int64, of owner: String) async throws -> Portfolio? {
        try await portfolios(of: owner, matching: "p.id = \(id)").first
    }

    /// `owner`'s portfolios that meet `condition`, with their holdings, in one query.
    private func portfolios(of owner: String, matching condition: SQLStatement) async throws -> [Portfolio] {
        let rows = try await database.query("""
            SELECT p.id, p.name, h.coin, h.amount FROM butler_portfolios p
            LEFT JOIN butler_holdings h ON h.portfolio_id = p.id
            WHERE p.owner = \(owner) AND \(condition) ORDER BY p.id, h.coin
            """)
        var portfolios: [Portfolio] = []
        for row in rows {
            let id = try row.decode(Int64.self, at: 0)
            if portfolios.last?.id != id {
                portfolios.append(Portfolio(id: id, name: try row.decode(String.self, at: 1), holdings: []))
            }
            if let coin = try row.decode(String?.self, at: 2), let amount = try row.decode(Double?.self, at: 3) {
                portfolios[portfolios.count - 1].holdings.append(.init(coin: coin, amount: amount))
            }
        }
        return portfolios
    }

    /// Creates a portfolio with its holdings in one transaction.
    public func create(_ input: PortfolioInput, for owner: String) async throws -> Portfolio {
        let id = try await database.transaction { db in
            let rows = try await db.query(
                "INSERT INTO butler_portfolios (owner, name) VALUES (\(owner), \(input.name)) RETURNING id")
            let id = try rows[0].decode(Int64.self, at: 0)
            if !input.holdings.isEmpty {
                let values = input.holdings.map { holding -> SQLStatement in "(\(id), \(holding.coin), \(holding.amount))" }
                try await db.execute("INSERT INTO butler_holdings (portfolio_id, coin, amount) VALUES \(values.joined(separator: ", "))")
            }
            return id
        }
        return Portfolio(id: id, name: input.name, holdings: input.holdings.sorted { $0.coin < $1.coin })
    }

    /// How many portfolios exist (all owners).
    public func portfolioCount() async throws -> Int {
        try await database.query("SELECT count(*) FROM butler_portfolios")[0].decode(Int.self, at: 0)
    }

    // MARK: Job data

    /// Upserts prices in one batch (`ON CONFLICT (coin) DO UPDATE`).
    public func savePrices(_ prices: [String: Double]) async throws {
        let upsert = Upsert(table: "butler_prices", columns: ["coin", "usd"], conflictColumns: ["coin"])
        _ = try await upsert.run(prices.map { [.text($0.key), .double($0.value)] }, on: database)
    }

    /// The stored price of `coin`.
    public func price(of coin: String) async throws -> Double? {
        try await database.query("SELECT usd FROM butler_prices WHERE coin = \(coin)").first?.decode(Double.self, at: 0)
    }

    /// Upserts rankings in one batch.
    public func saveRankings(_ rankings: [(coin: String, rank: Int, marketCap: Double)]) async throws {
        let upsert = Upsert(table: "butler_rankings", columns: ["coin", "rank", "market_cap"], conflictColumns: ["coin"])
        _ = try await upsert.run(rankings.map { [.text($0.coin), .int64(Int64($0.rank)), .double($0.marketCap)] }, on: database)
    }

    /// Inserts contract addresses (existing ones are kept).
    public func saveContracts(_ contracts: [(chain: String, address: String, coin: String)]) async throws {
        var upsert = Upsert(table: "butler_contracts", columns: ["chain", "address", "coin"], conflictColumns: ["chain", "address"])
        upsert.action = .doNothing
        _ = try await upsert.run(contracts.map { [.text($0.chain), .text($0.address), .text($0.coin)] }, on: database)
    }

    /// Upserts wallet balances.
    public func saveBalances(_ balances: [(wallet: String, chain: String, balance: Double)]) async throws {
        let upsert = Upsert(table: "butler_balances", columns: ["wallet", "chain", "balance"], conflictColumns: ["wallet", "chain"])
        _ = try await upsert.run(balances.map { [.text($0.wallet), .text($0.chain), .double($0.balance)] }, on: database)
    }

    /// Every row of the job tables, as text, for idempotency checks.
    public func jobTablesSnapshot() async throws -> [String] {
        var lines: [String] = []
        for (table, order) in [("butler_prices", "coin"), ("butler_rankings", "coin"), ("butler_contracts", "chain, address"), ("butler_balances", "wallet, chain")] {
            let rows = try await database.query("SELECT * FROM \(identifier: table) ORDER BY \(unsafeRaw: order)")
            lines += rows.map { row in table + ": " + row.values.map { "\($0.debugSQLText)" }.joined(separator: ", ") }
        }
        return lines
    }
}

extension SQLValue {
    /// The value as text, for comparing snapshots (test and demo output only).
    var debugSQLText: String {
        switch self {
        case .null: "NULL"
        case .bool(let value): String(value)
        case .int64(let value): String(value)
        case .double(let value): String(value)
        case .text(let value): value
        case .blob(let value): value.map { String($0, radix: 16) }.joined()
        case .date(let value): String(value.timeIntervalSince1970)
        case .uuid(let value): value.uuidString
        case .json(let value): value
        }
    }
}
