import Batching
public import CircuitBreaker
import ExampleSupport
public import RateLimit
public import Migrations
public import SQLCore

/// The blockchain indexer's Phase 3 on Keel: transactions fetched in parallel through a rate
/// limiter (the worker pool) and a circuit breaker, then events, transactions and operations
/// written with batched upserts. ``indexSequentially()`` is the "before" version: one RPC call at a
/// time and one upsert per row.
public final class ChainIndexer: Sendable {
    /// The database.
    public let database: any SQLDatabase
    /// The simulated chain and its RPC.
    public let chain: SimulatedChain
    /// Bounds the RPC calls in flight (the reference's worker pool of `MaxConcurrency`).
    public let limiter: RateLimiter<ContinuousClock>
    /// The RPC's limit across every indexer process (a `RedisConcurrencyLimit`), when there is one:
    /// each call holds a permit of it too.
    public let fleetLimit: (any PermitLimiting)?
    /// Protects the RPC: opens after 5 consecutive failures, probes again after `openDuration`.
    public let breaker: CircuitBreaker<ContinuousClock>
    /// Rows per upsert statement. Default 100, as the reference's `BatchConfig`.
    public let batchSize: Int
    private let counters: IndexerCounters
    private let log: @Sendable (String) -> Void

    /// An indexer writing to `database` from `chain`, `concurrency` RPC calls at a time (and
    /// within `fleetLimit`, when given); `log` receives the breaker's state changes and back-off
    /// notices.
    public init(
        database: any SQLDatabase, chain: SimulatedChain, concurrency: Int = 10, batchSize: Int = 100,
        openDuration: Duration = .seconds(1), fleetLimit: (any PermitLimiting)? = nil,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        self.fleetLimit = fleetLimit
        self.database = database
        self.chain = chain
        self.batchSize = batchSize
        self.log = log
        limiter = RateLimiter(maxConcurrent: concurrency, name: "rpc")
        var configuration = CircuitBreakerConfiguration()
        configuration.consecutiveFailures = 5
        configuration.openDuration = openDuration
        configuration.halfOpenMaxCalls = 1
        let counters = IndexerCounters()
        self.counters = counters
        let start = ContinuousClock.now
        breaker = try CircuitBreaker(name: "rpc", configuration: configuration) { transition in
            let at = start.duration(to: .now).formattedMilliseconds
            log("[\(at)] circuit breaker \(transition.from) -> \(transition.to) (RPC failures so far: \(counters.failures.load(ordering: .relaxed)))")
            if transition.to == .open { log("breaker open: backing off instead of calling the RPC for \(openDuration)") }
        }
    }

    // MARK: Schema

    /// The schema's steps: events, transactions and operations.
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "events, transactions, operations", statements: [
            "CREATE TABLE indexer_events (id BIGINT PRIMARY KEY, tx_hash TEXT NOT NULL, ledger BIGINT NOT NULL, kind TEXT NOT NULL)",
            "CREATE INDEX idx_indexer_events_tx ON indexer_events (tx_hash)",
            "CREATE TABLE indexer_transactions (hash TEXT PRIMARY KEY, ledger BIGINT NOT NULL, source TEXT NOT NULL, fee BIGINT NOT NULL)",
            """
            CREATE TABLE indexer_operations (tx_hash TEXT NOT NULL, position BIGINT NOT NULL, kind TEXT NOT NULL,
              amount BIGINT NOT NULL, PRIMARY KEY (tx_hash, position))
            """,
        ]),
    ]

    /// Starts from an empty index: drops the tables and the migrator's record of them, then
    /// creates them with Keel's migrator (its table: `indexer_schema_migrations`).
    public func resetSchema() async throws {
        for table in ["indexer_operations", "indexer_events", "indexer_transactions", "indexer_schema_migrations"] {
            try await database.execute("DROP TABLE IF EXISTS \(identifier: table)")
        }
        try await Migrator(Self.migrations, table: "indexer_schema_migrations").migrate(database)
    }

    /// Rows in the three tables: events, transactions, operations.
    public func storedCounts() async throws -> (events: Int, transactions: Int, operations: Int) {
        let rows = try await database.query("""
            SELECT (SELECT count(*) FROM indexer_events), (SELECT count(*) FROM indexer_transactions),
                   (SELECT count(*) FROM indexer_operations)
            """)
        return (try rows[0].decode(Int.self, at: 0), try rows[0].decode(Int.self, at: 1), try rows[0].decode(Int.self, at: 2))
    }

    // MARK: Indexing

    /// Parallel fetches and batched upserts.
    public func index() async throws -> IndexReport {
        var timings = PhaseTimings()
        var report = IndexReport()
        let before = counters.snapshot
        let events = try await timings.measure("fetch events") { try await chain.fetchEvents() }
        let hashes = Array(Set(events.map(\.transactionHash))).sorted()
        let transactions = try await timings.measure("fetch transactions") {
            try await hashes.concurrentMap(maxConcurrency: limiter.maxConcurrent) { hash in
                try await self.fetchResiliently(hash)
            }
        }
        try await timings.measure("upsert events") {
            var upsert = Upsert(table: "indexer_events", columns: ["id", "tx_hash", "ledger", "kind"], conflictColumns: ["id"])
            upsert.chunkSize = batchSize
            upsert.usesFastPath = false
            report.writeStatements += try await upsert.run(events.map(Self.values), on: database).chunks
        }
        try await timings.measure("upsert transactions") {
            var upsert = Upsert(
                table: "indexer_transactions", columns: ["hash", "ledger", "source", "fee"], conflictColumns: ["hash"])
            upsert.chunkSize = batchSize
            upsert.usesFastPath = false
            report.writeStatements += try await upsert.run(transactions.map(Self.values), on: database).chunks
            var operations = Upsert(
                table: "indexer_operations", columns: ["tx_hash", "position", "kind", "amount"],
                conflictColumns: ["tx_hash", "position"])
            operations.chunkSize = batchSize
            operations.usesFastPath = false
            report.writeStatements += try await operations.run(Self.operationRows(transactions), on: database).chunks
        }
        report.timings = timings
        finish(&report, events: events, transactions: transactions, since: before)
        return report
    }

    /// The "before" version: one RPC call at a time, one upsert statement per row.
    public func indexSequentially() async throws -> IndexReport {
        var timings = PhaseTimings()
        var report = IndexReport()
        let before = counters.snapshot
        let events = try await timings.measure("fetch events") { try await chain.fetchEvents() }
        let hashes = Array(Set(events.map(\.transactionHash))).sorted()
        let transactions = try await timings.measure("fetch transactions") {
            var fetched: [ChainTransaction] = []
            for hash in hashes { fetched.append(try await fetchResiliently(hash)) }
            return fetched
        }
        try await timings.measure("upsert events") {
            for event in events {
                try await database.execute("""
                    INSERT INTO indexer_events (id, tx_hash, ledger, kind) VALUES (\(list: Self.values(event)))
                    ON CONFLICT (id) DO UPDATE SET tx_hash = EXCLUDED.tx_hash, ledger = EXCLUDED.ledger, kind = EXCLUDED.kind
                    """)
                report.writeStatements += 1
            }
        }
        try await timings.measure("upsert transactions") {
            for transaction in transactions {
                try await database.execute("""
                    INSERT INTO indexer_transactions (hash, ledger, source, fee) VALUES (\(list: Self.values(transaction)))
                    ON CONFLICT (hash) DO UPDATE SET ledger = EXCLUDED.ledger, source = EXCLUDED.source, fee = EXCLUDED.fee
                    """)
                report.writeStatements += 1
            }
            for row in Self.operationRows(transactions) {
                try await database.execute("""
                    INSERT INTO indexer_operations (tx_hash, position, kind, amount) VALUES (\(list: row))
                    ON CONFLICT (tx_hash, position) DO UPDATE SET kind = EXCLUDED.kind, amount = EXCLUDED.amount
                    """)
                report.writeStatements += 1
            }
        }
        report.timings = timings
        finish(&report, events: events, transactions: transactions, since: before)
        return report
    }

    /// One transaction through the limiter and the breaker. Failed calls are retried with
    /// exponential back-off; while the breaker is open the indexer waits instead of calling.
    public func fetchResiliently(_ hash: String) async throws -> ChainTransaction {
        var attempt = 0
        while true {
            try Task.checkCancellation()
            do {
                return try await limiter.withPermit {
                    guard let fleetLimit else { return try await callRPC(hash) }
                    return try await fleetLimit.withPermit(isolation: nil) { try await callRPC(hash) }
                }
            } catch is CircuitBreakerError {
                counters.rejections.add(1, ordering: .relaxed)
                try await Task.sleep(for: breaker.configuration.openDuration / 4)
            } catch is SimulatedServiceError {
                attempt += 1
                let delay = min(Duration.milliseconds(1_000), Duration.milliseconds(25) * (1 << min(attempt, 6)))
                try await Task.sleep(for: delay / 2 + delay / 2 * Double.random(in: 0...1))
            }
        }
    }

    /// One RPC call behind the breaker, counted.
    private func callRPC(_ hash: String) async throws -> ChainTransaction {
        try await breaker.run {
            counters.calls.add(1, ordering: .relaxed)
            do {
                return try await chain.fetchTransaction(hash)
            } catch {
                counters.failures.add(1, ordering: .relaxed)
                throw error
            }
        }
    }

    // MARK: Helpers

    private func finish(_ report: inout IndexReport, events: [ChainEvent], transactions: [ChainTransaction], since before: (calls: Int, failures: Int, rejections: Int)) {
        let now = counters.snapshot
        report.events = events.count
        report.transactions = transactions.count
        report.operations = transactions.reduce(0) { $0 + $1.operations.count }
        report.rpcCalls = now.0 - before.0
        report.rpcFailures = now.1 - before.1
        report.rejectedByBreaker = now.2 - before.2
    }

    static func values(_ event: ChainEvent) -> [SQLValue] {
        [.int64(event.id), .text(event.transactionHash), .int64(event.ledger), .text(event.kind)]
    }

    static func values(_ transaction: ChainTransaction) -> [SQLValue] {
        [.text(transaction.hash), .int64(transaction.ledger), .text(transaction.source), .int64(transaction.fee)]
    }

    static func operationRows(_ transactions: [ChainTransaction]) -> [[SQLValue]] {
        transactions.flatMap { transaction in
            transaction.operations.map { [.text(transaction.hash), .int64($0.position), .text($0.kind), .int64($0.amount)] }
        }
    }
}
