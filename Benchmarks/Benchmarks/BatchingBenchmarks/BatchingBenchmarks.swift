// Suite `batching`: upserting 100,000 rows of 5 columns, half of whose keys already exist, in
// the ways an application can, side by side in one run. Every sample starts from the same table
// (50,000 rows with the odd keys, older values); the batch carries keys 1...100,000 in a shuffled
// order, each with new values. Throughput is in rows per second, recorded by each sample.
//
// PostgreSQL (the throwaway server of scripts/bench.sh, one pool of 4 connections):
// - postgres/rowbyrow:        one single-row `INSERT ... ON CONFLICT DO UPDATE` per statement, autocommit.
// - postgres/rowbyrow-tx100:  the same statements, one transaction per 100.
// - postgres/default:         Keel's `Upsert` with its defaults except the fast path (chunks of 100 rows,
//                             a transaction each).
// - postgres/fastpath:        Keel's `Upsert` with its defaults (batches of 1,000 rows or more take
//                             the fast path: chunks of 10,000 rows, each copied into a temporary
//                             table and upserted from it in one transaction).
// - postgres/copystaging:     the practical limit: in one transaction, COPY into a temporary table, then
//                             one `INSERT ... SELECT ... ON CONFLICT DO UPDATE`.
// - postgres/plan-fastpath:   the fast path's planning, no database: `Upsert.plan` (checks, duplicate
//                             removal, sorting by key).
// SQLite (a new file, WAL, synchronous=NORMAL):
// - sqlite/rowbyrow:          one single-row upsert per statement, autocommit.
// - sqlite/default:           Keel's `Upsert` with its defaults (chunks of 100 rows, a transaction each).
// - sqlite/limit:             one transaction of the prepared single-row upsert, on the writer's thread.

import Batching
import Benchmark
import Foundation
import Logging
import Pooling
import PostgresPool
import SQLCore
import SQLitePool

let rowCount = 100_000
let columns = ["k", "name", "price", "seen_at", "active"]

enum BenchmarkSetupError: Error {
    case noDatabaseURL
}

/// The batch of one sample: keys 1...rowCount in a shuffled (deterministic) order, values that
/// differ from the existing rows'.
let batch: [[SQLValue]] = {
    var keys = Array(1...Int64(rowCount))
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    for index in stride(from: keys.count - 1, to: 0, by: -1) {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        keys.swapAt(index, Int((state >> 33) % UInt64(index + 1)))
    }
    let seen = Date(timeIntervalSince1970: 1_790_000_000)
    return keys.map { key in
        [.int64(key), .text("item-\(key)"), .double(Double(key) * 1.25), .date(seen), .bool(key % 3 == 0)]
    }
}()

/// One single-row upsert of `row`, the statement of the row-by-row methods.
func singleRowUpsert(_ row: [SQLValue]) -> SQLStatement {
    """
    INSERT INTO items (k, name, price, seen_at, active) VALUES (\(row[0]), \(row[1]), \(row[2]), \(row[3]), \(row[4])) \
    ON CONFLICT (k) DO UPDATE SET name = EXCLUDED.name, price = EXCLUDED.price, seen_at = EXCLUDED.seen_at, \
    active = EXCLUDED.active
    """
}

/// Keel's upsert of the batch; `fastPath` false keeps every batch on chunks of 100 rows.
func upsert(fastPath: Bool) -> Upsert {
    var upsert = Upsert(table: "items", columns: columns, conflictColumns: ["k"])
    upsert.usesFastPath = fastPath
    return upsert
}

/// Checks that a sample wrote the whole batch (a benchmark that silently did nothing would be fast).
func check(_ count: Int, _ method: String) {
    precondition(count == rowCount, "\(method) left \(count) rows of \(rowCount) new values")
}

/// Records the sample's rows per second (finer than package-benchmark's samples per second).
func record(_ benchmark: Benchmark, since started: ContinuousClock.Instant) {
    let elapsed = started.duration(to: .now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    benchmark.measurement(rowsPerSecond, Int((Double(rowCount) / seconds).rounded()))
}

let rowsPerSecond = BenchmarkMetric.custom("rows per second", polarity: .prefersLarger, useScalingFactor: false)

// The databases, opened by the setup hooks and closed by the teardowns (benchmarks run one after
// the other).
nonisolated(unsafe) var postgres: PostgresDatabase?
nonisolated(unsafe) var postgresRunner: Task<Void, any Error>?
nonisolated(unsafe) var sqlite: SQLiteDatabase?

// MARK: PostgreSQL

func openPostgres() async throws {
    guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else {
        throw BenchmarkSetupError.noDatabaseURL
    }
    var configuration = try PostgresConfiguration(connectionString: url)
    configuration.logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
    var pool = PoolConfiguration()
    pool.minConnections = 1
    pool.maxConnections = 4
    let database = try PostgresDatabase(configuration: configuration, pool: pool)
    postgresRunner = Task { try await database.run() }
    try await database.execute(
        "CREATE TABLE IF NOT EXISTS items (k bigint PRIMARY KEY, name text NOT NULL, price double precision NOT NULL, seen_at timestamptz NOT NULL, active boolean NOT NULL)"
    )
    postgres = database
}

func closePostgres() async {
    await postgres?.shutdown()
    _ = await postgresRunner?.result
    postgres = nil
}

/// Puts the table back to its starting state: the odd keys with old values.
func resetPostgres(_ database: PostgresDatabase) async throws {
    try await database.execute("TRUNCATE items")
    try await database.execute(
        """
        INSERT INTO items SELECT g, 'old-' || g, g, now() - interval '1 day', false
        FROM generate_series(1, \(Int64(rowCount)), 2) AS g
        """)
    try await database.execute("VACUUM ANALYZE items")
}

func postgresSample(_ benchmark: Benchmark, method: String, _ body: (PostgresDatabase) async throws -> Void) async throws {
    try await sample(benchmark, method: method, on: postgres!, reset: resetPostgres, body)
}

func postgresRowByRow(_ database: PostgresDatabase) async throws {
    for row in batch { try await database.execute(singleRowUpsert(row)) }
}

func postgresRowByRowInTransactions(_ database: PostgresDatabase) async throws {
    for start in stride(from: 0, to: batch.count, by: 100) {
        let rows = batch[start..<min(start + 100, batch.count)]
        try await database.transaction { db in
            for row in rows { try await db.execute(singleRowUpsert(row)) }
        }
    }
}

func postgresCopyStaging(_ database: PostgresDatabase) async throws {
    try await database.withConnection { connection in
        try await connection.transaction { _ in
            try await connection.execute("CREATE TEMPORARY TABLE items_stage (LIKE items) ON COMMIT DROP")
            _ = try await connection.copy(into: "items_stage", columns: columns, rows: batch)
            try await connection.execute(
                """
                INSERT INTO items SELECT * FROM items_stage ON CONFLICT (k) DO UPDATE SET name = EXCLUDED.name, \
                price = EXCLUDED.price, seen_at = EXCLUDED.seen_at, active = EXCLUDED.active
                """)
        }
    }
}

// MARK: SQLite

func openSQLite() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let database = try await SQLiteDatabase(configuration: SQLiteConfiguration(path: folder.appendingPathComponent("batching.sqlite").path))
    try await database.execute(
        "CREATE TABLE items (k INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL, seen_at TEXT NOT NULL, active INTEGER NOT NULL)"
    )
    sqlite = database
}

func closeSQLite() async {
    await sqlite?.close()
    sqlite = nil
}

func resetSQLite(_ database: SQLiteDatabase) async throws {
    try await database.execute("DELETE FROM items")
    try await database.execute(
        """
        WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 2 FROM g WHERE x + 2 <= \(Int64(rowCount)))
        INSERT INTO items SELECT x, 'old-' || x, x, '2026-01-01', 0 FROM g
        """)
    try await database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
}

func sqliteSample(_ benchmark: Benchmark, method: String, _ body: (SQLiteDatabase) async throws -> Void) async throws {
    try await sample(benchmark, method: method, on: sqlite!, reset: resetSQLite, body)
}

/// One sample: the table reset, `body` measured and its rows per second recorded, then a check
/// that every row holds its new values.
func sample<Database: SQLDatabase>(
    _ benchmark: Benchmark, method: String, on database: Database, reset: (Database) async throws -> Void,
    _ body: (Database) async throws -> Void
) async throws {
    try await reset(database)
    let started = ContinuousClock.now
    benchmark.startMeasurement()
    try await body(database)
    benchmark.stopMeasurement()
    record(benchmark, since: started)
    let rows = try await database.query("SELECT count(*) FROM items WHERE name NOT LIKE 'old-%'")
    check(Int(try rows[0].decode(Int64.self, at: 0)), method)
}

// MARK: Benchmarks

let benchmarks: @Sendable () -> Void = {
    func configuration(samples: Int, setup: @escaping @Sendable () async throws -> Void, teardown: @escaping @Sendable () async throws -> Void) -> Benchmark.Configuration {
        Benchmark.Configuration(
            metrics: [.wallClock, rowsPerSecond],
            timeUnits: .milliseconds,
            units: [rowsPerSecond: .count],  // unscaled in the percentiles export bench_report.py reads
            warmupIterations: 0,
            maxDuration: .seconds(120),
            maxIterations: samples,
            setup: setup,
            teardown: teardown
        )
    }
    func onPostgres(_ samples: Int) -> Benchmark.Configuration {
        configuration(samples: samples, setup: openPostgres, teardown: closePostgres)
    }
    func onSQLite(_ samples: Int) -> Benchmark.Configuration {
        configuration(samples: samples, setup: openSQLite, teardown: closeSQLite)
    }

    Benchmark("postgres/rowbyrow", configuration: onPostgres(3)) { benchmark in
        try await postgresSample(benchmark, method: "rowbyrow", postgresRowByRow)
    }
    Benchmark("postgres/rowbyrow-tx100", configuration: onPostgres(3)) { benchmark in
        try await postgresSample(benchmark, method: "rowbyrow-tx100", postgresRowByRowInTransactions)
    }
    Benchmark("postgres/default", configuration: onPostgres(5)) { benchmark in
        try await postgresSample(benchmark, method: "default") { _ = try await upsert(fastPath: false).run(batch, on: $0) }
    }
    Benchmark("postgres/fastpath", configuration: onPostgres(5)) { benchmark in
        try await postgresSample(benchmark, method: "fastpath") { _ = try await upsert(fastPath: true).run(batch, on: $0) }
    }
    Benchmark("postgres/copystaging", configuration: onPostgres(5)) { benchmark in
        try await postgresSample(benchmark, method: "copystaging", postgresCopyStaging)
    }
    // The fast path's planning: checking, deduplicating and sorting the batch.
    Benchmark("postgres/plan-fastpath", configuration: configuration(samples: 20, setup: {}, teardown: {})) { benchmark in
        let started = ContinuousClock.now
        benchmark.startMeasurement()
        let plan = try upsert(fastPath: true).plan(for: batch, dialect: .postgres)
        benchmark.stopMeasurement()
        record(benchmark, since: started)
        precondition(plan.chunks.count == 10)
    }
    Benchmark("sqlite/rowbyrow", configuration: onSQLite(3)) { benchmark in
        try await sqliteSample(benchmark, method: "rowbyrow") { database in
            for row in batch { try await database.execute(singleRowUpsert(row)) }
        }
    }
    Benchmark("sqlite/default", configuration: onSQLite(5)) { benchmark in
        try await sqliteSample(benchmark, method: "default") { _ = try await upsert(fastPath: true).run(batch, on: $0) }
    }
    Benchmark("sqlite/limit", configuration: onSQLite(5)) { benchmark in
        try await sqliteSample(benchmark, method: "limit") { database in
            try await database.write { connection in
                for row in batch { try connection.execute(singleRowUpsert(row)) }
            }
        }
    }
}
