import Batching
import Pooling
import PostgresPool
import SQLCore
import Testing

extension Reliability {
    /// Scenario 5: the connection of a 10,000-row per-chunk upsert is killed half-way (by a trigger
    /// that calls `pg_terminate_backend` on its own session once 5,000 rows are in the table, twice
    /// so that the writer's own retry of the window is killed too). Only whole chunks may be
    /// present, exactly those the error's report lists, and re-running the batch must give the
    /// table a clean run gives.
    @Suite struct InterruptedBatch {
        static let rowCount = 10_000

        /// Half the keys exist before the batch (with old values), so the batch both updates and inserts.
        static func seed(_ table: String, on database: any SQLDatabase) async throws {
            try await database.execute("DROP TABLE IF EXISTS \(identifier: table)")
            try await database.execute(
                "CREATE TABLE \(identifier: table) (id BIGINT PRIMARY KEY, name TEXT NOT NULL, amount DOUBLE PRECISION, version INT NOT NULL)")
            try await database.execute("""
                INSERT INTO \(identifier: table) SELECT g * 2, 'old ' || g, g, 0 FROM generate_series(0, \(rowCount / 2 - 1)) AS g
                """)
        }

        static func batch() -> [[SQLValue]] {
            // Given out of key order: the builder sorts, so chunks are contiguous key ranges.
            (0..<rowCount).reversed().map { id in
                [.int64(Int64(id)), .text("new \(id) '; --"), .double(Double(id) * 1.5), .int64(1)]
            }
        }

        static func upsert(_ table: String) -> Upsert {
            var upsert = Upsert(table: table, columns: ["id", "name", "amount", "version"], conflictColumns: ["id"])
            upsert.usesFastPath = false  // 100 chunks of 100 rows, 8 per round trip
            return upsert
        }

        @Test(.enabled(if: ReliabilityEnvironment.runsPostgresScenarios, ReliabilityEnvironment.skipReason))
        func killedConnectionLeavesWholeChunksAndARerunMatchesACleanRun() async throws {
            var pool = ReliabilityEnvironment.quietPool()
            pool.maxConnections = 2
            let configuration = try ReliabilityEnvironment.configuration(applicationName: "keel-batch")
            try await ReliabilityEnvironment.withDatabase(configuration, pool: pool) { database in
                let table = "keel_interrupted_batch"
                let clean = "keel_clean_batch"
                try await Self.seed(table, on: database)
                try await Self.seed(clean, on: database)
                try await database.execute("DROP SEQUENCE IF EXISTS keel_batch_kills")
                try await database.execute("CREATE SEQUENCE keel_batch_kills")
                try await database.execute("""
                    CREATE OR REPLACE FUNCTION keel_kill_half_way() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                      IF (SELECT count(*) FROM keel_interrupted_batch WHERE version = 1) >= 5000 THEN
                        IF nextval('keel_batch_kills') <= 2 THEN
                          PERFORM pg_terminate_backend(pg_backend_pid());
                        END IF;
                      END IF;
                      RETURN NULL;
                    END $$
                    """)
                try await database.execute("""
                    CREATE TRIGGER keel_kill_half_way AFTER INSERT OR UPDATE ON keel_interrupted_batch
                    FOR EACH STATEMENT EXECUTE FUNCTION keel_kill_half_way()
                    """)

                var figures = ScenarioFigures("5 batch write interrupted (10,000 rows, chunks of 100, connection killed half-way)")
                let rows = Self.batch()
                let start = ContinuousClock.now
                let interruptedReport: UpsertReport
                do {
                    _ = try await Self.upsert(table).run(rows, on: database)
                    Issue.record("the batch finished although its connection was killed twice")
                    return
                } catch let error as BatchWriteError {
                    interruptedReport = error.report
                    figures.record("error surfaced (chunk \(error.failure.chunk))", "\(error.failure.error)")
                    #expect((error.failure.error as? PostgresError)?.isConnectionFailure == true, "\(error.failure.error)")
                }
                figures.record("time to the error", (ContinuousClock.now - start).formattedMilliseconds)

                // What the table holds must be exactly what the report says was committed: whole
                // chunks, every row of a committed chunk new, every other row as before.
                let stored = try await database.query("SELECT id, version FROM \(identifier: table) ORDER BY id")
                let newIDs = Set(stored.filter { $0[1] == .int64(1) }.map { $0[0] })
                let committedIDs = Set(interruptedReport.committedRowIndices.map { index in
                    rows[index][0]
                })
                #expect(newIDs == committedIDs, "the table does not hold exactly the rows the report lists")
                // Sorted keys make each chunk a key range of 100: count the ranges fully written.
                let sortedNew = newIDs.compactMap { value -> Int? in if case .int64(let id) = value { Int(id) } else { nil } }.sorted()
                let wholeChunks = sortedNew.count % 100 == 0 && sortedNew == Array(0..<sortedNew.count)
                #expect(wholeChunks, "a partial chunk is present: \(sortedNew.count) new rows")
                #expect(interruptedReport.chunksCommitted > 0 && interruptedReport.chunksCommitted < 100)
                figures.record("chunks committed before the kill (report)", interruptedReport.chunksCommitted)
                figures.record("rows new in the table / rows the report lists", "\(newIDs.count) / \(committedIDs.count)")
                figures.record("only whole chunks present", wholeChunks)

                // Re-run (the trigger kills no more) and compare with a clean run on a twin table.
                let rerun = try await Self.upsert(table).run(rows, on: database)
                let cleanRun = try await Self.upsert(clean).run(rows, on: database)
                let differences = try await database.query("""
                    SELECT count(*) FROM ((SELECT * FROM \(identifier: table) EXCEPT SELECT * FROM \(identifier: clean))
                    UNION ALL (SELECT * FROM \(identifier: clean) EXCEPT SELECT * FROM \(identifier: table))) AS d
                    """)
                let differing = try differences[0].decode(Int.self, at: 0)
                let total = try await database.query("SELECT count(*) FROM \(identifier: table)")[0].decode(Int.self, at: 0)
                #expect(differing == 0)
                #expect(total == Self.rowCount)
                #expect(rerun.rowsCommitted == Self.rowCount && cleanRun.rowsCommitted == Self.rowCount)
                figures.record("re-run: rows written (unchanged rows skipped) / clean run rows written",
                               "\(rerun.rowsWritten) / \(cleanRun.rowsWritten)")
                figures.record("rows differing from the clean run after the re-run", differing)
                figures.print()

                try await database.execute("DROP TABLE \(identifier: table)")
                try await database.execute("DROP TABLE \(identifier: clean)")
                try await database.execute("DROP FUNCTION keel_kill_half_way")
                try await database.execute("DROP SEQUENCE keel_batch_kills")
            }
        }
    }
}
