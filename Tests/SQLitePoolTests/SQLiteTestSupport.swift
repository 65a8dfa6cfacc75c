import Foundation
import SQLCore
import KeelTesting
import SQLitePool
import Testing

/// Opens a database on a new temporary file (or as `configuration` adjusts it), runs `body`,
/// and closes it whatever happens.
func withDatabase<Result>(
    _ adjust: (inout SQLiteConfiguration) -> Void = { _ in },
    _ body: (SQLiteDatabase) async throws -> Result
) async throws -> Result {
    var configuration = SQLiteConfiguration(path: try TestDatabaseEnvironment.temporarySQLitePath())
    adjust(&configuration)
    let database = try await SQLiteDatabase(configuration: configuration)
    do {
        let result = try await body(database)
        await database.close()
        return result
    } catch {
        await database.close()
        throw error
    }
}

/// Polls `condition` until it holds (state changes made by other threads), failing after 10 s.
func eventually(_ what: Comment, _ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while !condition() {
        if ContinuousClock.now > deadline {
            Issue.record("timed out waiting: \(what)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// A one-shot signal between tasks.
final class Signal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream<Void>.makeStream()
    }

    func fire() {
        continuation.yield()
        continuation.finish()
    }

    func wait() async {
        for await _ in stream { break }
    }
}

/// A second process (Python's sqlite3 module) that opens the same file and holds its write lock.
final class LockingProcess: @unchecked Sendable {
    // @unchecked Sendable: used by one test at a time; Process and Pipe are thread-safe to read.
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    /// Starts a process that begins an immediate transaction on `path`, inserts `row` into `t`, says
    /// "locked", then commits after `holdSeconds` or when its input closes.
    init(path: String, row: Int, holdSeconds: Double) throws {
        let script = """
            import sqlite3, sys, select
            db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO t (id) VALUES (?)", (int(sys.argv[2]),))
            print("locked", flush=True)
            select.select([sys.stdin], [], [], float(sys.argv[3]))
            db.execute("COMMIT")
            print("committed", flush=True)
            """
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path, String(row), String(holdSeconds)]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    /// Waits for the process to print `line` (reading on a thread of its own, since the read blocks).
    func waitFor(_ line: String) async throws {
        let handle = output.fileHandleForReading
        let found: Bool = await withCheckedContinuation { continuation in
            Thread {
                var seen = ""
                while !seen.contains(line) {
                    let data = handle.availableData
                    if data.isEmpty { return continuation.resume(returning: false) }
                    seen += String(decoding: data, as: UTF8.self)
                }
                continuation.resume(returning: true)
            }.start()
        }
        try #require(found, "the locking process ended before printing \(line)")
    }

    /// Lets the process commit now, and waits for it to end.
    func finish() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
