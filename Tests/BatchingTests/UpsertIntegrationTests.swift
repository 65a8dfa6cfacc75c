import Batching
import Foundation
import SQLBackendTestSupport
import SQLCore
import Testing

@Suite(.serialized) struct UpsertIntegrationTests {
    func createTable(_ table: String, on database: any SQLDatabase) async throws {
        try await database.execute(
            "CREATE TABLE \(identifier: table) (id BIGINT PRIMARY KEY, name TEXT NOT NULL, score BIGINT NOT NULL CHECK (score >= 0), seen BIGINT NOT NULL)")
    }

    func rows(_ ids: some Sequence<Int>, score: Int = 1, seen: Int = 10) -> [[SQLValue]] {
        ids.map { [.int64(Int64($0)), .text("name-\($0)"), .int64(Int64(score)), .int64(Int64(seen))] }
    }

    func upsert(_ table: String) -> Upsert {
        Upsert(table: table, columns: ["id", "name", "score", "seen"], conflictColumns: ["id"])
    }

    func contents(_ table: String, _ database: any SQLDatabase) async throws -> [SQLRow] {
        try await database.query("SELECT id, name, score, seen FROM \(identifier: table) ORDER BY id")
    }

    @Test(arguments: Backend.available) func theSameBatchTwiceLeavesTheSameTable(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            try await createTable(table, on: database)
            let first = try await upsert(table).run(rows(1...300), on: database)
            #expect(first.rowsWritten == 300 && first.chunks == 3)
            if backend.isPostgres { #expect(first.inserted == 300 && first.updated == 0) }
            let before = try await contents(table, database)
            let second = try await upsert(table).run(rows(1...300), on: database)
            #expect(second.rowsWritten == 0, "unchanged rows are skipped")
            #expect(second.rowsUnchanged == 300)
            #expect(try await contents(table, database) == before)
            // Half new, half changed.
            let third = try await upsert(table).run(rows(151...450, score: 2), on: database)
            #expect(third.rowsWritten == 300)
            if backend.isPostgres { #expect(third.inserted == 150 && third.updated == 150) }
        }
    }

    @Test(arguments: Backend.available) func theUpdateConditionLeavesNewerRowsAlone(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            try await createTable(table, on: database)
            _ = try await upsert(table).run(rows(1...10, score: 5, seen: 10), on: database)
            var older = upsert(table)
            older.updateCondition = SQLStatement(unsafeRaw: "\"\(table)\".seen < EXCLUDED.seen")
            let stale = try await older.run(rows(1...10, score: 9, seen: 5), on: database)
            #expect(stale.rowsWritten == 0)
            let fresh = try await older.run(rows(1...5, score: 9, seen: 20), on: database)
            #expect(fresh.rowsWritten == 5)
            let scores = try await contents(table, database).map { try $0.decode(Int.self, "score") }
            #expect(scores == [9, 9, 9, 9, 9, 5, 5, 5, 5, 5])
        }
    }

    @Test(arguments: Backend.available) func returningGivesTheWrittenRows(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            try await createTable(table, on: database)
            var returning = upsert(table)
            returning.returning = ["id", "name"]
            let report = try await returning.run(rows(1...150), on: database)
            #expect(report.returnedRows.count == 150)
            #expect(Set(try report.returnedRows.map { try $0.decode(Int.self, "id") }) == Set(1...150))
            #expect(report.returnedRows[0].columns.names == ["id", "name"])
        }
    }

    @Test(arguments: Backend.available) func aFailingChunkLeavesExactlyTheChunksBeforeIt(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            try await createTable(table, on: database)
            var batch = rows(1...300)
            batch[249][2] = .int64(-1)  // row 250 breaks CHECK (score >= 0)
            do {
                _ = try await upsert(table).run(batch, on: database)
                Issue.record("row 250 must fail")
            } catch let error as BatchWriteError {
                #expect(error.failure.chunk == 2)
                #expect(error.report.rowsCommitted == 200)
                #expect(error.report.committedRowIndices == Array(0..<200))
            }
            let ids = try await contents(table, database).map { try $0.decode(Int.self, "id") }
            #expect(ids == Array(1...200))

            try await database.execute("DELETE FROM \(identifier: table)")
            do {
                _ = try await upsert(table).run(batch, on: database, transaction: .whole)
                Issue.record("row 250 must fail")
            } catch let error as BatchWriteError {
                #expect(error.report.rowsCommitted == 0)
            }
            #expect(try await contents(table, database).isEmpty, "one transaction: nothing committed")

            let report = try await upsert(table).run(batch, on: database, transaction: .whole, failure: .continue)
            #expect(report.failures.map(\.chunk) == [2])
            #expect(report.rowsCommitted == 200)
            #expect(try await contents(table, database).count == 200, "the savepoint rolled back only the failing chunk")
        }
    }

    @Test(arguments: Backend.available) func aPlanRunsOnItsOwn(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            try await createTable(table, on: database)
            var fast = upsert(table)
            fast.fastPathThreshold = 100
            fast.fastPathChunkSize = 100
            let plan = try fast.plan(for: rows(1...250), dialect: database.dialect)
            #expect(plan.chunks.count == 3)
            if backend.isPostgres {
                #expect(plan.chunks.allSatisfy { $0.usesFastPath })
                #expect(plan.chunks.map(\.stagedRows.count) == [100, 100, 50])
                #expect(plan.chunks[2].stagedRows.first == rows([201]).first, "the rows in key order")
            } else {
                #expect(plan.chunks.allSatisfy { !$0.usesFastPath && $0.stagedRows.isEmpty })
            }
            let report = try await fast.run(plan: plan, on: database)
            #expect(report.rowsWritten == 250 && report.chunksCommitted == 3)
            #expect(try await contents(table, database).map { try $0.decode(Int.self, "id") } == Array(1...250))
            if !backend.isPostgres {
                let staged = try fast.plan(for: rows(1...250), dialect: .postgres)
                do {
                    _ = try await fast.run(plan: staged, on: database)
                    Issue.record("a staged plan needs bulk loading")
                } catch BatchError.Code.unsupported {
                    // refused before anything was sent
                }
            }
        }
    }

    @Test(arguments: Backend.available) func fastPathChunksCommitOnTheirOwnOrTogether(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            try await createTable(table, on: database)
            var fast = upsert(table)
            fast.fastPathThreshold = 100
            fast.fastPathChunkSize = 100
            var batch = rows(1...300)
            batch[249][2] = .int64(-1)  // row 250, in the third chunk, breaks CHECK (score >= 0)
            do {
                _ = try await fast.run(batch, on: database)
                Issue.record("row 250 must fail")
            } catch let error as BatchWriteError {
                #expect(error.failure.chunk == 2)
                #expect(error.report.usedFastPath == (backend.isPostgres))
                #expect(error.report.committedRowIndices == Array(0..<200))
            }
            #expect(try await contents(table, database).map { try $0.decode(Int.self, "id") } == Array(1...200))

            // One transaction: the staging table is made and dropped once per chunk; a failing
            // chunk rolls back alone under `continue`, everything under `stop`.
            try await database.execute("DELETE FROM \(identifier: table)")
            await #expect(throws: BatchWriteError.self) { try await fast.run(batch, on: database, transaction: .whole) }
            #expect(try await contents(table, database).isEmpty)
            let report = try await fast.run(batch, on: database, transaction: .whole, failure: .continue)
            #expect(report.failures.map(\.chunk) == [2] && report.rowsCommitted == 200)
            if backend.isPostgres { #expect(report.inserted == 200 && report.updated == 0) }
            #expect(try await contents(table, database).map { try $0.decode(Int.self, "id") } == Array(1...200))

            // Half new, half changed, some unchanged, with RETURNING.
            batch[249][2] = .int64(1)
            var changed = rows(1...300, score: 2)
            for index in 0..<50 { changed[index] = batch[index] }  // rows 1-50 keep their values
            fast.returning = ["id"]
            let second = try await fast.run(changed, on: database)
            #expect(second.rowsWritten == 250 && second.rowsUnchanged == 50)
            if backend.isPostgres { #expect(second.inserted == 100 && second.updated == 150) }
            #expect(Set(try second.returnedRows.map { try $0.decode(Int.self, "id") }) == Set(51...300))
        }
    }

    @Test(arguments: Backend.available) func bothPathsWriteRowsInTheSameKeyOrder(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            // Text keys whose plan order (Swift's) differs from a collation's ("B" < "a" here,
            // "a" < "B" in most locales): both paths must lock rows in one order, or a writer on
            // the fast path and one on the default path could deadlock.
            let log = table + "_log"
            if backend.isPostgres {
                // ICU's root collation, whatever the server's locale (the tests' server uses C).
                try await database.execute("CREATE TABLE \(identifier: table) (k TEXT COLLATE \"und-x-icu\" PRIMARY KEY, v BIGINT NOT NULL)")
                try await database.execute("CREATE TABLE \(identifier: log) (seq BIGSERIAL PRIMARY KEY, k TEXT NOT NULL)")
                try await database.execute(
                    """
                    CREATE FUNCTION \(identifier: table + "_record")() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN INSERT INTO \(identifier: log) (k) VALUES (NEW.k); RETURN NEW; END $$
                    """)
                try await database.execute(
                    "CREATE TRIGGER record BEFORE INSERT ON \(identifier: table) FOR EACH ROW EXECUTE FUNCTION \(identifier: table + "_record")()")
            } else {
                try await database.execute("CREATE TABLE \(identifier: table) (k TEXT PRIMARY KEY, v BIGINT NOT NULL)")
                try await database.execute("CREATE TABLE \(identifier: log) (seq INTEGER PRIMARY KEY, k TEXT NOT NULL)")
                try await database.execute(
                    "CREATE TRIGGER record BEFORE INSERT ON \(identifier: table) BEGIN INSERT INTO \(identifier: log) (k) VALUES (NEW.k); END")
            }
            let keys = ["b", "B", "a", "A", "é", "Z", "z", "10", "9", "_x", "ab", "aB", "Ab"]
            let expected = keys.sorted()
            for fast in [true, false] {
                try await database.execute("DELETE FROM \(identifier: table)")
                try await database.execute("DELETE FROM \(identifier: log)")
                var upsert = Upsert(table: table, columns: ["k", "v"], conflictColumns: ["k"])
                upsert.fastPathThreshold = 2
                upsert.usesFastPath = fast
                let report = try await upsert.run(keys.map { [.text($0), .int64(1)] }, on: database)
                #expect(report.usedFastPath == (fast && backend.isPostgres))
                let written = try await database.query("SELECT k FROM \(identifier: log) ORDER BY seq").map { try $0.decode(String.self, "k") }
                #expect(written == expected, "fast path: \(fast)")
            }
        }
    }

    @Test(arguments: Backend.available) func pipelinedChunksKeepExactlyTheChunksThatSucceed(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            try await createTable(table, on: database)
            var batch = rows(1...1_000)
            batch[250][2] = .int64(-1)  // chunk 2 (of the first round trip of 4 chunks)
            batch[650][2] = .int64(-1)  // chunk 6 (of the second)
            for chunksPerRoundTrip in [4, 1] {
                try await database.execute("DELETE FROM \(identifier: table)")
                var upsert = upsert(table)
                upsert.chunksPerRoundTrip = chunksPerRoundTrip
                upsert.usesFastPath = false
                let report = try await upsert.run(batch, on: database, failure: .continue)
                #expect(report.failures.map(\.chunk) == [2, 6])
                #expect(report.rowsCommitted == 800 && report.rowsWritten == 800 && report.chunksCommitted == 8)
                if backend.isPostgres { #expect(report.inserted == 800) }
                let ids = try await contents(table, database).map { try $0.decode(Int.self, "id") }
                #expect(ids == Array(1...200) + Array(301...600) + Array(701...1_000))
            }
        }
    }

    @Test(arguments: Backend.available) func oppositeOrdersNeverDeadlock(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            try await createTable(table, on: database)
            let keys = Array(1...10_000)
            for round in 0..<20 {
                try await withThrowingTaskGroup(of: UpsertReport.self) { group in
                    for reversed in [false, true] {
                        group.addTask {
                            var batch = upsert(table)
                            batch.usesFastPath = round.isMultiple(of: 2)
                            return try await batch.run(rows(reversed ? keys.reversed() : keys, score: round), on: database)
                        }
                    }
                    for try await report in group { #expect(report.failures.isEmpty) }
                }
            }
            let count = try await database.query("SELECT COUNT(*) AS n FROM \(identifier: table)")[0].decode(Int.self, "n")
            #expect(count == 10_000)
        }
    }

    @Test(arguments: Backend.available) func aHundredThousandRows(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            try await createTable(table, on: database)
            let report = try await upsert(table).run(rows(1...100_000), on: database)
            #expect(report.rowsWritten == 100_000)
            #expect(report.usedFastPath == (backend.isPostgres))
            let row = try await database.query("SELECT COUNT(*) AS n, SUM(id) AS s FROM \(identifier: table)")[0]
            #expect(try row.decode(Int.self, "n") == 100_000)
            #expect(try row.decode(Int.self, "s") == 5_000_050_000)
        }
    }

    @Test(arguments: Backend.available) func everyValueKindThroughBothPaths(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            let types =
                backend.isPostgres
                ? "id BIGINT PRIMARY KEY, b BOOLEAN, d DOUBLE PRECISION, t TEXT, x BYTEA, ts TIMESTAMPTZ, u UUID, j JSONB"
                : "id INTEGER PRIMARY KEY, b INTEGER, d REAL, t TEXT, x BLOB, ts TEXT, u TEXT, j TEXT"
            try await database.execute("CREATE TABLE \(identifier: table) (\(unsafeRaw: types))")
            let texts = [
                "plain", "quote \" and \\ backslash", "{braces},commas", "NULL", "Ünïcødé ✓", "", "'single'",
                "tab\tand\nnew line\r\n", #"\N"#, #"\."#, "\\.\n",
            ]
            let doubles = [Double.infinity, -Double.infinity, .greatestFiniteMagnitude, -0.0, .leastNonzeroMagnitude]
            var batch: [[SQLValue]] = []
            for id in 1...1_200 {
                let flag: SQLValue = id % 7 == 0 ? .null : .bool(id.isMultiple(of: 2))
                let blob: [UInt8] = [0, 1, 92, 34, 255, UInt8(id % 256)]
                let date = Date(timeIntervalSince1970: 1_700_000_000 + Double(id) + 0.123456)
                let json = #"{"id": \#(id), "s": "a\"b"}"#
                let row: [SQLValue] = [
                    .int64(Int64(id)), flag, .double(id % 11 == 0 ? doubles[id % doubles.count] : Double(id) / 3),
                    .text(texts[id % texts.count]), .blob(blob),
                    .date(date), .uuid(UUID()), .json(json),
                ]
                batch.append(row)
            }
            let columns = ["id", "b", "d", "t", "x", "ts", "u", "j"]
            for fast in [true, false] {
                try await database.execute("DELETE FROM \(identifier: table)")
                var upsert = Upsert(table: table, columns: columns, conflictColumns: ["id"])
                upsert.usesFastPath = fast
                let report = try await upsert.run(batch, on: database)
                #expect(report.usedFastPath == (fast && backend.isPostgres))
                let stored = try await database.query("SELECT id, b, d, t, x, ts, u, j FROM \(identifier: table) ORDER BY id")
                try #require(stored.count == batch.count)
                for (row, expected) in zip(stored, batch) {
                    #expect(try row.decode(Bool?.self, "b") == Bool(sqlValue: expected[1]))
                    #expect(try row.decode(Double.self, "d") == Double(sqlValue: expected[2]))
                    #expect(try row.decode(String.self, "t") == String(sqlValue: expected[3]))
                    #expect(try row.decode([UInt8].self, "x") == [UInt8](sqlValue: expected[4]))
                    let date = try row.decode(Date.self, "ts")
                    #expect(abs(date.timeIntervalSince(Date(sqlValue: expected[5])!)) < 0.000_001)
                    #expect(try row.decode(UUID.self, "u") == UUID(sqlValue: expected[6]))
                    #expect(try row.decode(String.self, "j").contains(#""s""#))
                }
            }
        }
    }
}
