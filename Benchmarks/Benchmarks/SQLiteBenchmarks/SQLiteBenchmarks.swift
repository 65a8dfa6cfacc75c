// Suite `sqlite`: Keel's SQLiteDatabase against GRDB's DatabasePool (groue/GRDB.swift 7.10.0),
// side by side in the same run, each on its own new file with the same schema and settings:
// WAL, synchronous=NORMAL, SQLite's default cache, foreign keys on, and as many readers as Keel's
// default (the number of cores, at least 2). Each side uses its idiomatic fast path: Keel's
// `query` / `execute` / `write { }`, GRDB's `read { }` / `write { }` with cached statements.
//
// - read-1task:      1,000 point reads by primary key from one task (random keys of 10,000 rows).
// - read-8tasks:     the same 1,000 reads split over 8 concurrent tasks.
// - insert-single:   100 single-row insert transactions.
// - insert-batch100: 10 transactions of 100 inserted rows each.
// Throughput is in operations (reads or transactions) per second.

import Benchmark
import Foundation
import GRDB
import SQLCore
import SQLitePool

let keyCount = 10_000
let readerCount = SQLiteConfiguration.defaultReaderCount

func temporaryPath() -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-bench-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent("bench.sqlite").path
}

let schema = """
    CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL);
    CREATE TABLE log (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT NOT NULL);
    """

/// A deterministic stream of keys, the same for both libraries.
struct Keys {
    var state: UInt64
    mutating func next() -> Int64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int64((state >> 33) % UInt64(keyCount)) + 1
    }
}

/// Runs `operations` calls of `operation` over `tasks` tasks, measuring only them.
func measure(
    _ benchmark: Benchmark, operations: Int, tasks: Int, _ operation: @escaping @Sendable (Int) async throws -> Void
) async throws {
    benchmark.startMeasurement()
    if tasks == 1 {
        for index in 0..<operations { try await operation(index) }
    } else {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for index in stride(from: task, to: operations, by: tasks) { try await operation(index) }
                }
            }
            try await group.waitForAll()
        }
    }
    benchmark.stopMeasurement()
}

// The database each benchmark runs on, opened by its setup hook and closed by its teardown
// (benchmarks run one after the other, so one of each at a time).
nonisolated(unsafe) var keelDatabase: SQLiteDatabase?
nonisolated(unsafe) var grdbPool: DatabasePool?

// MARK: Keel

func openKeel() async throws -> SQLiteDatabase {
    var configuration = SQLiteConfiguration(path: temporaryPath())
    configuration.readerCount = readerCount
    let database = try await SQLiteDatabase(configuration: configuration)
    try await database.execute(SQLStatement(unsafeRaw: schema))
    try await database.write { connection in
        for key in 1...keyCount {
            try connection.execute("INSERT INTO kv (k, v) VALUES (\(key), \("value-\(key)"))")
        }
    }
    return database
}

func keelRead(_ benchmark: Benchmark, tasks: Int) async throws {
    let database = keelDatabase!
    try await measure(benchmark, operations: 1000, tasks: tasks) { index in
        var keys = Keys(state: UInt64(index))
        let key = keys.next()
        let rows = try await database.query("SELECT v FROM kv WHERE k = \(key)")
        blackHole(try rows[0].decode(String.self, at: 0))
    }
}

func keelInsertSingle(_ benchmark: Benchmark) async throws {
    let database = keelDatabase!
    try await measure(benchmark, operations: 100, tasks: 1) { index in
        try await database.execute("INSERT INTO log (a, b) VALUES (\(index), \("event-\(index)"))")
    }
}

func keelInsertBatch(_ benchmark: Benchmark) async throws {
    let database = keelDatabase!
    try await measure(benchmark, operations: 10, tasks: 1) { index in
        try await database.write { connection in
            for row in 0..<100 {
                try connection.execute("INSERT INTO log (a, b) VALUES (\(row), \("event-\(index)-\(row)"))")
            }
        }
    }
}

// MARK: GRDB

func openGRDB() async throws -> DatabasePool {
    var configuration = Configuration()
    configuration.maximumReaderCount = readerCount
    let pool = try DatabasePool(path: temporaryPath(), configuration: configuration)
    try await pool.write { db in
        try db.execute(sql: schema)
        let insert = try db.cachedStatement(sql: "INSERT INTO kv (k, v) VALUES (?, ?)")
        for key in 1...keyCount {
            try insert.execute(arguments: [key, "value-\(key)"])
        }
    }
    return pool
}

func grdbRead(_ benchmark: Benchmark, tasks: Int) async throws {
    let pool = grdbPool!
    try await measure(benchmark, operations: 1000, tasks: tasks) { index in
        var keys = Keys(state: UInt64(index))
        let key = keys.next()
        let value = try await pool.read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT v FROM kv WHERE k = ?"), arguments: [key])
        }
        blackHole(value!)
    }
}

func grdbInsertSingle(_ benchmark: Benchmark) async throws {
    let pool = grdbPool!
    try await measure(benchmark, operations: 100, tasks: 1) { index in
        try await pool.write { db in
            try db.cachedStatement(sql: "INSERT INTO log (a, b) VALUES (?, ?)")
                .execute(arguments: [index, "event-\(index)"])
        }
    }
}

func grdbInsertBatch(_ benchmark: Benchmark) async throws {
    let pool = grdbPool!
    try await measure(benchmark, operations: 10, tasks: 1) { index in
        try await pool.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO log (a, b) VALUES (?, ?)")
            for row in 0..<100 {
                try insert.execute(arguments: [row, "event-\(index)-\(row)"])
            }
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    func configuration(opsPerSample: Int, keel: Bool) -> Benchmark.Configuration {
        Benchmark.Configuration(
            metrics: [.throughput, .mallocCountTotal, .wallClock],
            tags: ["opsPerSample": "\(opsPerSample)"],  // read by bench_report.py
            warmupIterations: 3,
            maxDuration: .seconds(3),
            maxIterations: 300,
            setup: {
                if keel { keelDatabase = try await openKeel() } else { grdbPool = try await openGRDB() }
            },
            teardown: {
                if keel {
                    await keelDatabase?.close()
                    keelDatabase = nil
                } else {
                    try grdbPool?.close()
                    grdbPool = nil
                }
            }
        )
    }
    for (workload, operations) in [("read-1task", 1000), ("read-8tasks", 1000), ("insert-single", 100), ("insert-batch100", 10)] {
        Benchmark("\(workload)/keel", configuration: configuration(opsPerSample: operations, keel: true)) { benchmark in
            switch workload {
            case "read-1task": try await keelRead(benchmark, tasks: 1)
            case "read-8tasks": try await keelRead(benchmark, tasks: 8)
            case "insert-single": try await keelInsertSingle(benchmark)
            default: try await keelInsertBatch(benchmark)
            }
        }
        Benchmark("\(workload)/grdb", configuration: configuration(opsPerSample: operations, keel: false)) { benchmark in
            switch workload {
            case "read-1task": try await grdbRead(benchmark, tasks: 1)
            case "read-8tasks": try await grdbRead(benchmark, tasks: 8)
            case "insert-single": try await grdbInsertSingle(benchmark)
            default: try await grdbInsertBatch(benchmark)
            }
        }
    }
}
