// Suite `postgres`: `SELECT v FROM kv WHERE k = $1` over a 10,000-row table against the
// throwaway PostgreSQL that scripts/bench.sh starts, Keel's PostgresDatabase against
// PostgresNIO's PostgresClient (1.33.2, `execute` with a PostgresPreparedStatement, the same
// pool size) in the same run.
//
// Workloads `select-<workers>x<pool size>`: each benchmark opens its client once (see `Fixture`),
// then each sample runs `queriesPerSample` queries split over the workers, with random keys.
// Keel runs four times: `keel`, its workers on Swift's global executor; `keel-on-reactor`, its
// workers preferring `PostgresConnection.taskExecutor`; `keel-multiplexed`, its statements
// pipelined onto 2 of the pool's connections (`PostgresConfiguration.multiplexedConnections`;
// KEEL_BENCH_MULTIPLEXED_CONNECTIONS sets another count); and `keel-multiplexed-on-reactor`, the
// same with its workers preferring the reactor's executor, where the connections are served. Besides throughput, each sample records
// (custom metrics, one value per sample): the p50 and p99 latency of its queries in ns, the
// client CPU per query in ns (getrusage over the sample / queries), the context switches per
// 1,000 queries (getrusage), the machine's busy cores (client and server, /proc/stat) times 1,000,
// and for Keel the reactor wake-ups per 1,000 queries (on the global
// executor each wake-up is two thread hops; on the reactor, none).
//
// Workload `rows-1000`: one worker reads 1,000 rows of (int8, timestamptz, 1 KiB of bytea, text)
// and decodes every value, `rowQueriesPerSample` queries a sample: `keel` (the statement prepared,
// so its results come in binary after the first, read as `SQLRow`s), `keel-in-place` (the same,
// each row decoded where libpq holds it, `query(_:rowsAs:)`), `text` (Keel with
// `statementCacheCapacity = 0`: unnamed statements, results in text) and `postgresnio` (its binary
// results, decoded to Int64, Date, ByteBuffer and String).
//
// Workload `pgbouncer-select-16x10`: the same (16, 10) workload through scripts/bench.sh's
// PgBouncer in transaction mode (`keel`, `pgBouncerTransactionMode`: statements unnamed) against
// Keel connected directly (`direct`) in the same run.
//
// pgbench and HikariCP run on the same workloads after these benchmarks (scripts/bench.sh,
// scripts/bench_postgres_peers.py), with compare lines against each of Keel's four.

import Benchmark
import Foundation
import Logging
import Pooling
import PostgresNIO
import PostgresPool
import SQLCore
import Synchronization

let queriesPerSample = 4000
/// Queries per sample of the `rows-1000` workload.
let rowQueriesPerSample = 50
/// The connections `keel-multiplexed` writes its statements onto (`PostgresConfiguration.multiplexedConnections`).
let multiplexedConnections = Int(ProcessInfo.processInfo.environment["KEEL_BENCH_MULTIPLEXED_CONNECTIONS"] ?? "") ?? 2
let rowCount = 10_000

enum BenchmarkSetupError: Error {
    case noDatabaseURL
}

func databaseURL() throws -> String {
    guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else {
        throw BenchmarkSetupError.noDatabaseURL
    }
    return url
}

/// scripts/bench.sh's PgBouncer (transaction mode) in front of the server of ``databaseURL()``.
func pgBouncerURL() throws -> String {
    guard let url = ProcessInfo.processInfo.environment["TEST_PGBOUNCER_URL"], !url.isEmpty else {
        throw BenchmarkSetupError.noDatabaseURL
    }
    return url
}

/// Creates and fills `kv` once (scripts/bench.sh's pgbench uses the same table).
func prepareTable() async throws {
    var configuration = try PostgresConfiguration(connectionString: databaseURL())
    configuration.logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
    let connection = try await PostgresConnection.connect(configuration: configuration)
    defer { connection.close() }
    try await connection.execute("CREATE TABLE IF NOT EXISTS kv (k integer PRIMARY KEY, v text NOT NULL)")
    try await connection.execute(
        "INSERT INTO kv SELECT g, md5(g::text) FROM generate_series(1, \(Int64(rowCount))) AS g ON CONFLICT DO NOTHING")
    try await connection.execute("ANALYZE kv")
}

/// The process's CPU time and context switches (voluntary and not) so far.
func usage() -> (cpu: Duration, contextSwitches: Int) {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func duration(_ time: timeval) -> Duration { .seconds(Int64(time.tv_sec)) + .microseconds(Int64(time.tv_usec)) }
    return (duration(usage.ru_utime) + duration(usage.ru_stime), usage.ru_nvcsw + usage.ru_nivcsw)
}

/// The machine's busy and total CPU time so far, in jiffies over all CPUs (/proc/stat).
func machineJiffies() -> (busy: Int, total: Int) {
    guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
        let line = stat.split(separator: "\n").first
    else { return (0, 0) }
    let fields = line.split(separator: " ").dropFirst().compactMap { Int($0) }
    guard fields.count > 4 else { return (0, 0) }
    let total = fields.reduce(0, +)
    return (total - fields[3] - fields[4], total)
}

func nanoseconds(_ duration: Duration) -> Int {
    Int(duration.components.seconds) * 1_000_000_000 + Int(duration.components.attoseconds / 1_000_000_000)
}

/// Runs one sample: `queriesPerSample` queries over `workers` tasks, then records the metrics.
func sample(
    _ benchmark: Benchmark, workers: Int, queries queriesPerSample: Int = queriesPerSample, countWakeups: Bool,
    executor: (any TaskExecutor)? = nil, query: @escaping @Sendable (Int) async throws -> Void
) async throws {
    let before = usage()
    let jiffiesBefore = machineJiffies()
    let wakeupsBefore = PostgresConnection.reactorWakeups
    let started = ContinuousClock.now
    benchmark.startMeasurement()
    let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
        for worker in 0..<workers {
            let share = queriesPerSample / workers + (worker < queriesPerSample % workers ? 1 : 0)
            group.addTask(executorPreference: executor) {
                var latencies: [Duration] = []
                latencies.reserveCapacity(share)
                var generator = SystemRandomNumberGenerator()
                let clock = ContinuousClock()
                for _ in 0..<share {
                    let key = Int.random(in: 1...rowCount, using: &generator)
                    let start = clock.now
                    try await query(key)
                    latencies.append(start.duration(to: clock.now))
                }
                return latencies
            }
        }
        return try await group.reduce(into: [Duration]()) { $0 += $1 }
    }
    benchmark.stopMeasurement()
    let wall = started.duration(to: .now)
    let after = usage()
    let jiffiesAfter = machineJiffies()
    let cpu = after.cpu - before.cpu
    let wakeups = PostgresConnection.reactorWakeups - wakeupsBefore
    let sorted = latencies.sorted()
    // package-benchmark's throughput counts whole samples per second, too coarse for samples
    // of a few hundred milliseconds: the report uses this instead.
    benchmark.measurement(
        .custom("queries per second", polarity: .prefersLarger, useScalingFactor: false),
        Int(Double(queriesPerSample) * 1e9 / Double(nanoseconds(wall))))
    benchmark.measurement(.custom("p50 latency (ns)", useScalingFactor: false), nanoseconds(sorted[sorted.count / 2]))
    benchmark.measurement(
        .custom("p99 latency (ns)", useScalingFactor: false), nanoseconds(sorted[sorted.count * 99 / 100]))
    benchmark.measurement(
        .custom("client CPU per query (ns)", useScalingFactor: false), nanoseconds(cpu / queriesPerSample))
    benchmark.measurement(
        .custom("context switches per 1000 queries", useScalingFactor: false),
        (after.contextSwitches - before.contextSwitches) * 1000 / queriesPerSample)
    let totalJiffies = max(jiffiesAfter.total - jiffiesBefore.total, 1)
    benchmark.measurement(
        .custom("busy cores (x1000)", useScalingFactor: false),
        (jiffiesAfter.busy - jiffiesBefore.busy) * 1000 * ProcessInfo.processInfo.activeProcessorCount / totalJiffies)
    if countWakeups {
        benchmark.measurement(
            .custom("reactor wakeups per 1000 queries", useScalingFactor: false), wakeups * 1000 / queriesPerSample)
    }
}

// MARK: Fixtures

/// A client opened once for a benchmark, in its setup, and shared by its samples: each sample
/// measures the steady state, as a server's pool serves queries, not the opening of connections
/// and the first queries of new server processes. (Opened anew for each sample, every sample
/// paid for 10 or 20 SCRAM handshakes and as many new backends.)
struct Fixture: Sendable {
    /// Runs one query for a key.
    let query: @Sendable (Int) async throws -> Void
    /// Closes the client.
    let close: @Sendable () async -> Void
}

/// The fixtures of the benchmarks running, by benchmark name, for their teardown.
let openFixtures = Mutex<[String: Fixture]>([:])

/// Opens `fixture` for the benchmark `name`, and runs `connections * 4` concurrent queries, so
/// that every connection is open and has prepared the query before the first sample.
func open(_ name: String, connections: Int, _ fixture: () async throws -> Fixture) async throws -> Fixture {
    try await prepareTable()
    let opened = try await fixture()
    try await withThrowingTaskGroup(of: Void.self) { warm in
        for key in 1...connections * 4 { warm.addTask { try await opened.query(key) } }
        try await warm.waitForAll()
    }
    openFixtures.withLock { $0[name] = opened }
    return opened
}

/// Closes the fixture of the benchmark `name`.
func close(_ name: String) async {
    await openFixtures.withLock { $0.removeValue(forKey: name) }?.close()
}

// MARK: Keel

func openKeel(connections: Int, throughPgBouncer: Bool = false, multiplexedConnections: Int = 0) async throws -> Fixture {
    var configuration = try PostgresConfiguration(connectionString: throughPgBouncer ? pgBouncerURL() : databaseURL())
    configuration.pgBouncerTransactionMode = throughPgBouncer
    configuration.multiplexedConnections = multiplexedConnections
    configuration.logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
    var pool = PoolConfiguration(logger: configuration.logger)
    pool.minConnections = connections
    pool.maxConnections = connections
    pool.validation = .never
    let database = try PostgresDatabase(configuration: configuration, pool: pool)
    let running = Task { try await database.run() }
    while database.pool.statistics.open < connections { try await Task.sleep(for: .milliseconds(1)) }
    return Fixture(
        query: { key in
            let rows = try await database.query("SELECT v FROM kv WHERE k = \(key)")
            blackHole(try rows[0].decode(String.self, "v"))
        },
        close: {
            await database.shutdown()
            _ = try? await running.value
        })
}

// MARK: PostgresNIO

/// The `rows-1000` workload's statement, run by Keel and PostgresNIO.
let thousandRowsSQL = """
    SELECT g::int8 AS id, '2023-11-14 22:13:20+00'::timestamptz + g * interval '1 second' AS at,
        decode(repeat('ab', 1024), 'hex') AS payload, 'row ' || g AS name
    FROM generate_series(1, 1000) AS g
    """

/// The `rows-1000` workload's statement, in Keel's terms.
let thousandRows = SQLStatement(unsafeRaw: thousandRowsSQL)

/// One row of the `rows-1000` workload.
struct ThousandRowsRow: Sendable {
    let id: Int64
    let at: Date
    let payload: [UInt8]
    let name: String
}

func openKeelRows(text: Bool, inPlace: Bool = false) async throws -> Fixture {
    var configuration = try PostgresConfiguration(connectionString: databaseURL())
    configuration.statementCacheCapacity = text ? 0 : 256
    configuration.logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
    var pool = PoolConfiguration(logger: configuration.logger)
    pool.minConnections = 1
    pool.maxConnections = 1
    pool.validation = .never
    let database = try PostgresDatabase(configuration: configuration, pool: pool)
    let running = Task { try await database.run() }
    return Fixture(
        query: { _ in
            if inPlace {
                let rows = try await database.query(thousandRows) { row in
                    ThousandRowsRow(
                        id: try row.decode(Int64.self, "id"), at: try row.decode(Date.self, "at"),
                        payload: try row.decode([UInt8].self, "payload"), name: try row.decode(String.self, "name"))
                }
                blackHole(rows)
                return
            }
            for row in try await database.query(thousandRows) {
                blackHole(try row.decode(Int64.self, "id"))
                blackHole(try row.decode(Date.self, "at"))
                blackHole(try row.decode([UInt8].self, "payload"))
                blackHole(try row.decode(String.self, "name"))
            }
        },
        close: {
            await database.shutdown()
            _ = try? await running.value
        })
}

func openPostgresNIORows() async throws -> Fixture {
    let client = try postgresNIOClient(connections: 1)
    let running = Task { await client.run() }
    return Fixture(
        query: { _ in
            let rows = try await client.query(PostgresQuery(unsafeSQL: thousandRowsSQL))
            for try await row in rows.decode((Int64, Date, ByteBuffer, String).self) { blackHole(row) }
        },
        close: {
            running.cancel()
            await running.value
        })
}

struct SelectValue: PostgresPreparedStatement {
    static let sql = "SELECT v FROM kv WHERE k = $1"
    typealias Row = String

    var key: Int

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(Int32(key))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(String.self)
    }
}

/// A PostgresNIO client of at most `connections` connections to ``databaseURL()``.
func postgresNIOClient(connections: Int) throws -> PostgresClient {
    let url = try require(URLComponents(string: databaseURL()))
    var configuration = PostgresClient.Configuration(
        host: url.host ?? "127.0.0.1", port: url.port ?? 5432, username: url.user ?? "postgres", password: url.password,
        database: String(url.path.dropFirst()), tls: .disable)
    configuration.options.maximumConnections = connections
    return PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
}

func openPostgresNIO(connections: Int) async throws -> Fixture {
    let client = try postgresNIOClient(connections: connections)
    let running = Task { await client.run() }
    return Fixture(
        query: { key in
            for try await value in try await client.execute(SelectValue(key: key)) { blackHole(value) }
        },
        close: {
            running.cancel()
            await running.value
        })
}

func require<T>(_ value: T?) throws -> T {
    guard let value else { throw BenchmarkSetupError.noDatabaseURL }
    return value
}

let benchmarks: @Sendable () -> Void = {
    func configuration(countingWakeups: Bool) -> Benchmark.Configuration {
        let common: [BenchmarkMetric] = [
            .throughput,
            .custom("queries per second", polarity: .prefersLarger, useScalingFactor: false),
            .custom("p50 latency (ns)", useScalingFactor: false),
            .custom("p99 latency (ns)", useScalingFactor: false),
            .custom("client CPU per query (ns)", useScalingFactor: false),
            .custom("context switches per 1000 queries", useScalingFactor: false),
            .custom("busy cores (x1000)", useScalingFactor: false),
        ]
        return Benchmark.Configuration(
            metrics: common + (countingWakeups ? [.custom("reactor wakeups per 1000 queries", useScalingFactor: false)] : []),
            tags: ["opsPerSample": "\(queriesPerSample)"],
            warmupIterations: 1,
            maxDuration: .seconds(6),
            maxIterations: 30
        )
    }
    for (workers, connections) in [(1, 1), (16, 10), (64, 20)] {
        for client in ["keel", "keel-on-reactor", "keel-multiplexed", "keel-multiplexed-on-reactor", "postgresnio"] {
            let name = "select-\(workers)x\(connections)/\(client)"
            let isKeel = client != "postgresnio"
            let executor = client.hasSuffix("on-reactor") ? PostgresConnection.taskExecutor : nil
            Benchmark(name, configuration: configuration(countingWakeups: isKeel)) { benchmark, fixture in
                for _ in benchmark.scaledIterations {
                    try await sample(benchmark, workers: workers, countWakeups: isKeel, executor: executor, query: fixture.query)
                }
            } setup: {
                try await open(name, connections: connections) {
                    guard isKeel else { return try await openPostgresNIO(connections: connections) }
                    return try await openKeel(
                        connections: connections,
                        multiplexedConnections: client.hasPrefix("keel-multiplexed") ? min(multiplexedConnections, connections) : 0)
                }
            } teardown: {
                await close(name)
            }
        }
    }
    for client in ["keel", "keel-in-place", "text", "postgresnio"] {
        let name = "rows-1000/\(client)"
        var rows = configuration(countingWakeups: false)
        rows.tags = ["opsPerSample": "\(rowQueriesPerSample)"]
        Benchmark(name, configuration: rows) { benchmark, fixture in
            for _ in benchmark.scaledIterations {
                try await sample(benchmark, workers: 1, queries: rowQueriesPerSample, countWakeups: false, query: fixture.query)
            }
        } setup: {
            try await open(name, connections: 1) {
                client == "postgresnio"
                    ? try await openPostgresNIORows() : try await openKeelRows(text: client == "text", inPlace: client == "keel-in-place")
            }
        } teardown: {
            await close(name)
        }
    }
    for client in ["keel", "direct"] {
        let name = "pgbouncer-select-16x10/\(client)"
        Benchmark(name, configuration: configuration(countingWakeups: false)) { benchmark, fixture in
            for _ in benchmark.scaledIterations {
                try await sample(benchmark, workers: 16, countWakeups: false, query: fixture.query)
            }
        } setup: {
            try await open(name, connections: 10) { try await openKeel(connections: 10, throughPgBouncer: client == "keel") }
        } teardown: {
            await close(name)
        }
    }
}
