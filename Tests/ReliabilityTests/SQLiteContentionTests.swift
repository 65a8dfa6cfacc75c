import Foundation
import SQLCore
import KeelTesting
import SQLitePool
import Testing

extension Reliability {
    /// Scenario 6: two processes (the `ReliabilitySQLiteWriter` executable, twice), 8 tasks each,
    /// write to one SQLite file for 10 s. Each write is a transaction that inserts a row and
    /// increments a counter both processes share, so a lost write shows as a missing row and a
    /// lost update as a counter short of the total.
    @Suite struct SQLiteContention {
        /// The writer executable, built next to the test bundle.
        static var writerPath: String {
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                .appendingPathComponent("ReliabilitySQLiteWriter").path
        }

        /// `acknowledged=N busy=B failed=F` from a writer's output.
        static func counts(in output: String) throws -> [String: Int] {
            let pairs = output.split(whereSeparator: \.isWhitespace).compactMap { field -> (String, Int)? in
                let parts = field.split(separator: "=")
                guard parts.count == 2, let value = Int(parts[1]) else { return nil }
                return (String(parts[0]), value)
            }
            let counts = Dictionary(pairs, uniquingKeysWith: { $1 })
            try #require(counts["acknowledged"] != nil, "unexpected writer output: \(output)")
            return counts
        }

        @Test func twoProcessesLoseNoWriteAndSurfaceNoBusyError() async throws {
            let writer = Self.writerPath
            try #require(FileManager.default.isExecutableFile(atPath: writer), "\(writer) was not built")
            let path = try TestDatabaseEnvironment.temporarySQLitePath(name: "contention.sqlite")
            let setup = try await SQLiteDatabase(path: path)
            try await setup.execute("""
                CREATE TABLE writes (process INTEGER NOT NULL, task INTEGER NOT NULL, sequence INTEGER NOT NULL,
                  payload TEXT NOT NULL, PRIMARY KEY (process, task, sequence));
                CREATE TABLE counter (id INTEGER PRIMARY KEY, total INTEGER NOT NULL);
                INSERT INTO counter VALUES (1, 0);
                """)
            await setup.close()

            let start = ContinuousClock.now
            async let first = runProgram(writer, arguments: [path, "1", "8", "10"])
            async let second = runProgram(writer, arguments: [path, "2", "8", "10"])
            let outputs = try await [first, second]
            let elapsed = ContinuousClock.now - start
            for output in outputs { #expect(output.status == 0, "a writer exited with \(output.status)") }
            let counts = try outputs.map { try Self.counts(in: $0.output) }

            let database = try await SQLiteDatabase(path: path)
            let perProcess = try await database.query("SELECT process, count(*) FROM writes GROUP BY process ORDER BY process")
            let stored = try perProcess.map { try $0.decode(Int.self, at: 1) }
            let counter = try await database.query("SELECT total FROM counter")[0].decode(Int.self, at: 0)
            let integrity = try await database.query("PRAGMA integrity_check").map { try $0.decode(String.self, at: 0) }
            await database.close()

            let acknowledged = counts.map { $0["acknowledged"] ?? 0 }
            let busy = counts.map { $0["busy"] ?? 0 }.reduce(0, +)
            let failed = counts.map { $0["failed"] ?? 0 }.reduce(0, +)
            let lost = zip(acknowledged, stored).map { $0 - $1 }.reduce(0, +)
            var figures = ScenarioFigures("6 SQLite contention (2 processes × 8 tasks, 10 s, one file, WAL)")
            figures.record("writes acknowledged per process", acknowledged.map(String.init).joined(separator: " / "))
            figures.record("rows stored per process", stored.map(String.init).joined(separator: " / "))
            figures.record("lost writes", lost)
            figures.record("shared counter / writes acknowledged", "\(counter) / \(acknowledged.reduce(0, +))")
            figures.record("BUSY errors surfaced / other errors", "\(busy) / \(failed)")
            figures.record("write transactions per second (both processes)",
                           String(format: "%.0f", Double(acknowledged.reduce(0, +)) / (elapsed.milliseconds / 1_000)))
            figures.record("integrity_check", integrity.joined(separator: ", "))
            figures.print()

            #expect(stored.count == 2)
            #expect(stored == acknowledged, "acknowledged writes are missing")
            #expect(counter == acknowledged.reduce(0, +), "increments of the shared counter were lost")
            #expect(busy == 0)
            #expect(failed == 0)
            #expect(acknowledged.allSatisfy { $0 > 100 }, "a process barely wrote: \(acknowledged)")
            #expect(integrity == ["ok"])
        }
    }
}
