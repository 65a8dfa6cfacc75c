import CSQLite3
import KeelCore
import Foundation
import SQLCore
import KeelTesting
import Pooling
import SQLitePool
import Testing

@Suite struct SQLiteDatabaseTests {
    // MARK: Concurrency

    /// 8 writer tasks × 1,000 single-row transactions while 8 readers check, all along, that each
    /// transaction's two changes appear together.
    @Test func concurrentWritersAndReaders() async throws {
        try await withDatabase { database in
            try await database.execute(
                """
                CREATE TABLE events (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, n INTEGER NOT NULL);
                CREATE TABLE totals (id INTEGER PRIMARY KEY, total INTEGER NOT NULL);
                INSERT INTO totals (id, total) VALUES (1, 0);
                """)
            let writers = 8
            let perWriter = 1_000
            let done = Signal()
            try await withThrowingTaskGroup(of: Int.self) { group in
                for reader in 0..<8 {
                    group.addTask {
                        var checks = 0
                        var last = 0
                        let finished = Task { await done.wait() }
                        while !finished.isCancelled {
                            let events: Int
                            let total: Int
                            if reader.isMultiple(of: 2) {
                                let row = try await database.query(
                                    "SELECT (SELECT COUNT(*) FROM events) AS events, (SELECT total FROM totals) AS total")[0]
                                (events, total) = (try row.decode(Int.self, "events"), try row.decode(Int.self, "total"))
                            } else {
                                // Two statements in one read transaction see one snapshot.
                                (events, total) = try await database.read { connection in
                                    let events = try connection.query("SELECT COUNT(*) AS n FROM events")[0].decode(Int.self, "n")
                                    let total = try connection.query("SELECT total FROM totals")[0].decode(Int.self, "total")
                                    return (events, total)
                                }
                            }
                            #expect(events == total, "a reader saw a half-committed transaction")
                            #expect(events >= last, "a reader went back in time")
                            last = events
                            checks += 1
                            if events == writers * perWriter { break }
                        }
                        finished.cancel()
                        return checks
                    }
                }
                for writer in 0..<writers {
                    group.addTask {
                        for n in 0..<perWriter {
                            if n.isMultiple(of: 2) {
                                try await database.write { connection in
                                    try connection.execute("INSERT INTO events (writer, n) VALUES (\(writer), \(n))")
                                    try connection.execute("UPDATE totals SET total = total + 1 WHERE id = 1")
                                }
                            } else {
                                try await database.transaction { db in
                                    try await db.execute("INSERT INTO events (writer, n) VALUES (\(writer), \(n))")
                                    try await db.execute("UPDATE totals SET total = total + 1 WHERE id = 1")
                                }
                            }
                        }
                        return 0
                    }
                }
                var checks = 0
                for try await count in group { checks += count }
                #expect(checks > 0)
            }
            done.fire()
            let rows = try await database.query("SELECT writer, COUNT(*) AS n, COUNT(DISTINCT n) AS distinct_n FROM events GROUP BY writer ORDER BY writer")
            #expect(rows.count == writers)
            for row in rows {
                #expect(try row.decode(Int.self, "n") == perWriter)
                #expect(try row.decode(Int.self, "distinct_n") == perWriter)
            }
            let total = try await database.query("SELECT total FROM totals")[0].decode(Int.self, "total")
            #expect(total == writers * perWriter)
            let statistics = database.statistics
            #expect(statistics.queuedWrites == 0 && statistics.runningWrites == 0)
            #expect(statistics.queuedReads == 0 && statistics.runningReads == 0)
        }
    }

    /// A read started while a write transaction is open sees the last committed state.
    @Test func readerSeesLastCommittedStateDuringWrite() async throws {
        try await withDatabase { database in
            try await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            try await database.execute("INSERT INTO t (id) VALUES (1)")
            let seenDuring = try await database.transaction { db in
                try await db.execute("INSERT INTO t (id) VALUES (2)")
                let inside = try await db.query("SELECT COUNT(*) AS n FROM t")[0].decode(Int.self, "n")
                #expect(inside == 2, "the transaction sees its own insert")
                return try await database.query("SELECT COUNT(*) AS n FROM t")[0].decode(Int.self, "n")
            }
            #expect(seenDuring == 1, "a reader does not see the open transaction's insert")
            let after = try await database.query("SELECT COUNT(*) AS n FROM t")[0].decode(Int.self, "n")
            #expect(after == 2)
        }
    }

    // MARK: Cancellation

    /// A write waiting for the writer leaves the queue when its task is cancelled, and never runs.
    @Test func cancellingAQueuedWriteRemovesIt() async throws {
        try await withDatabase { database in
            try await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            let holding = Signal()
            let release = Signal()
            let holder = Task {
                try await database.transaction { db in
                    try await db.execute("INSERT INTO t (id) VALUES (1)")
                    holding.fire()
                    await release.wait()
                }
            }
            await holding.wait()
            let queued = Task { try await database.execute("INSERT INTO t (id) VALUES (2)") }
            try await eventually("the write is queued") { database.statistics.queuedWrites == 1 }
            queued.cancel()
            await #expect(throws: CancellationError.self) { _ = try await queued.value }
            #expect(database.statistics.queuedWrites == 0)
            release.fire()
            try await holder.value
            let ids = try await database.query("SELECT id FROM t ORDER BY id").map { try $0.decode(Int.self, "id") }
            #expect(ids == [1])
        }
    }

    /// A long query is interrupted by `sqlite3_interrupt` when its task is cancelled; the reader
    /// serves the next query.
    @Test func cancellingARunningQueryInterruptsIt() async throws {
        try await withDatabase({ $0.readerCount = 1 }) { database in
            let long = Task {
                try await database.query(
                    """
                    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000000)
                    SELECT COUNT(*) AS n FROM c
                    """)
            }
            try await eventually("the query runs") { database.statistics.runningReads == 1 }
            let cancelled = ContinuousClock.now
            long.cancel()
            await #expect(throws: CancellationError.self) { _ = try await long.value }
            #expect(ContinuousClock.now - cancelled < .seconds(2), "the interrupt stops the statement promptly")
            let one = try await database.query("SELECT 1 AS one")[0].decode(Int.self, "one")
            #expect(one == 1)
        }
    }

    /// A `write` closure whose task is cancelled mid-way is interrupted and rolled back.
    @Test func cancellingARunningWriteRollsItBack() async throws {
        try await withDatabase { database in
            try await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            let write = Task {
                try await database.write { connection in
                    try connection.execute("INSERT INTO t (id) VALUES (1)")
                    _ = try connection.query(
                        """
                        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000000)
                        SELECT COUNT(*) AS n FROM c
                        """)
                }
            }
            try await eventually("the write runs") { database.statistics.runningWrites == 1 }
            write.cancel()
            await #expect(throws: CancellationError.self) { try await write.value }
            let count = try await database.query("SELECT COUNT(*) AS n FROM t")[0].decode(Int.self, "n")
            #expect(count == 0)
        }
    }

    /// A cancellation that lands between two statements of a `write` closure still stops the
    /// second: `sqlite3_interrupt` alone is cleared when a statement starts on an idle connection.
    @Test func aCancellationBetweenStatementsStopsTheNextOne() async throws {
        try await withDatabase { database in
            try await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            let inserted = Signal()
            let cancelled = Locked(false)
            let write = Task {
                try await database.write { connection in
                    try connection.execute("INSERT INTO t (id) VALUES (1)")
                    inserted.fire()
                    while !cancelled.withLock({ $0 }) { sched_yield() }  // no statement runs now
                    _ = try connection.query(
                        """
                        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000)
                        SELECT COUNT(*) AS n FROM c
                        """)
                }
            }
            await inserted.wait()
            write.cancel()
            cancelled.withLock { $0 = true }
            let start = ContinuousClock.now
            await #expect(throws: CancellationError.self) { try await write.value }
            #expect(ContinuousClock.now - start < .seconds(2), "the second statement was stopped, not run to its end")
            let count = try await database.query("SELECT COUNT(*) AS n FROM t")[0].decode(Int.self, "n")
            #expect(count == 0)
        }
    }

    // MARK: Busy retry

    /// Another process holding the write lock for a while: the insert waits with back-off and succeeds.
    @Test func anotherProcessHoldingTheLockIsRetried() async throws {
        try await withDatabase { database in
            try await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            let other = try LockingProcess(path: try path(of: database), row: 1, holdSeconds: 0.3)
            defer { other.finish() }
            try await other.waitFor("locked")
            try await database.execute("INSERT INTO t (id) VALUES (2)")
            try await database.write { try $0.execute("INSERT INTO t (id) VALUES (3)") }
            let ids = try await database.query("SELECT id FROM t ORDER BY id").map { try $0.decode(Int.self, "id") }
            #expect(ids == [1, 2, 3], "the other process's row committed first, then ours")
        }
    }

    /// A lock held past the busy timeout: a clear error naming the deadline and the statement.
    @Test func aLockHeldPastTheBusyTimeoutFailsClearly() async throws {
        try await withDatabase({ $0.busyTimeout = .milliseconds(100) }) { database in
            try await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            let other = try LockingProcess(path: try path(of: database), row: 1, holdSeconds: 30)
            try await other.waitFor("locked")
            do {
                try await database.execute("INSERT INTO t (id) VALUES (\(2))")
                Issue.record("the insert must fail while the other process holds the lock")
            } catch let error as SQLiteError {
                #expect(error.isBusy)
                #expect(error.sql == "INSERT INTO t (id) VALUES (?)")
                #expect(error.description.contains("0.1 seconds"), "names the deadline: \(error)")
                #expect(error.description.contains("busyTimeout"), "\(error)")
            }
            other.finish()
            try await database.execute("INSERT INTO t (id) VALUES (2)")
            let count = try await database.query("SELECT COUNT(*) AS n FROM t")[0].decode(Int.self, "n")
            #expect(count == 2)
        }
    }

    // MARK: Statements

    /// A statement is prepared once per connection and reused.
    @Test func statementsArePreparedOnceAndReused() async throws {
        try await withDatabase { database in
            try await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            let counts = try await database.write { connection in
                let before = connection.cachedStatementCount
                for id in 0..<100 {
                    try connection.execute("INSERT INTO t (id, v) VALUES (\(id), \("v\(id)"))")
                }
                return (before, connection.cachedStatementCount)
            }
            #expect(counts.1 == counts.0 + 1)
        }
    }

    /// The cache holds at most its capacity, evicting the least recently used.
    @Test func statementCacheIsBounded() async throws {
        try await withDatabase({ $0.statementCacheCapacity = 3 }) { database in
            let count = try await database.write { connection in
                for value in 0..<10 {
                    _ = try connection.query(SQLStatement(unsafeRaw: "SELECT \(value) AS v"))
                }
                return connection.cachedStatementCount
            }
            #expect(count == 3)
        }
    }

    /// Statements taking turns in a cache of one evict each other on every call: each runs its own
    /// SQL with its own values, never the other's (nor a finalized statement).
    @Test func statementsTakingTurnsInACacheOfOne() async throws {
        try await withDatabase({ $0.statementCacheCapacity = 1 }) { database in
            try await database.execute("CREATE TABLE a (v INTEGER); CREATE TABLE b (v INTEGER);")
            let sums = try await database.write { connection in
                for value in 1...20 {
                    try connection.execute("INSERT INTO a (v) VALUES (\(value))")
                    try connection.execute("INSERT INTO a (v) VALUES (\(value))")
                    try connection.execute("INSERT INTO b (v) VALUES (\(value * 100))")
                }
                let a = try connection.query("SELECT SUM(v) AS s FROM a")[0].decode(Int.self, "s")
                let b = try connection.query("SELECT SUM(v) AS s FROM b")[0].decode(Int.self, "s")
                return (a, b, connection.cachedStatementCount)
            }
            #expect(sums.0 == 2 * 210)
            #expect(sums.1 == 21_000)
            #expect(sums.2 == 1)
        }
    }

    /// A statement whose text matches the one run last is still checked: an invalid identifier
    /// fails as it does on its own.
    @Test func anInvalidIdentifierFailsAfterAStatementOfTheSameText() async throws {
        try await withDatabase { database in
            let outcome = try await database.write { connection -> Bool in
                _ = try connection.query(SQLStatement(unsafeRaw: #"SELECT 1 AS """#))
                do {
                    _ = try connection.query("SELECT 1 AS \(identifier: "")")
                    return false
                } catch let error as SQLStatementError {
                    return error.code == .invalidIdentifier
                }
            }
            #expect(outcome)
        }
    }

    /// `RETURNING` works through `query`, which sends a writing statement to the writer.
    @Test func returningThroughQuery() async throws {
        try await withDatabase { database in
            try await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            let rows = try await database.query("INSERT INTO t (name) VALUES (\("a")), (\("b")) RETURNING id, name")
            #expect(try rows.map { try $0.decode(String.self, "name") } == ["a", "b"])
            #expect(try rows.map { try $0.decode(Int.self, "id") } == [1, 2])
        }
    }

    /// A script of several statements runs through `execute` without binds; with binds it is refused.
    @Test func scriptsRunWithoutBindsOnly() async throws {
        try await withDatabase { database in
            try await database.execute("CREATE TABLE a (id INTEGER); CREATE TABLE b (id INTEGER); INSERT INTO a VALUES (1);")
            let count = try await database.query("SELECT COUNT(*) AS n FROM a")[0].decode(Int.self, "n")
            #expect(count == 1)
            await #expect(throws: SQLiteError.self) {
                try await database.execute("INSERT INTO a VALUES (\(2)); INSERT INTO b VALUES (\(3))")
            }
            let after = try await database.query("SELECT (SELECT COUNT(*) FROM a) + (SELECT COUNT(*) FROM b) AS n")[0]
            #expect(try after.decode(Int.self, "n") == 1, "nothing of the refused script ran")
        }
    }

    /// Streaming rows with `forEachRow` inside a read.
    @Test func forEachRowStreams() async throws {
        try await withDatabase { database in
            try await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            try await database.write { connection in
                for id in 1...1_000 { try connection.execute("INSERT INTO t (id) VALUES (\(id))") }
            }
            let sum = try await database.read { connection in
                var sum = 0
                try connection.forEachRow("SELECT id FROM t") { sum += try $0.decode(Int.self, "id") }
                return sum
            }
            #expect(sum == 500_500)
        }
    }

    /// The dialect reports the linked library's bind limit.
    @Test func dialectComesFromTheLinkedLibrary() async throws {
        try await withDatabase { database in
            #expect(database.dialect.name == "sqlite")
            #expect(database.dialect.supports(.returning) == (sqlite3_libversion_number() >= 3_035_000))
            #expect(database.dialect.maxBindParameters > 0)
        }
    }

    // MARK: Errors

    @Test func aMissingDirectoryIsNamed() async throws {
        let path = "/tmp/keel-missing-\(UUID().uuidString)/db.sqlite"
        do {
            _ = try await SQLiteDatabase(path: path)
            Issue.record("opening in a missing directory must fail")
        } catch let error as SQLiteError {
            #expect(error.message.contains("does not exist"), "\(error)")
            #expect(error.message.contains(path))
        }
    }

    @Test func aReadOnlyLocationIsNamed() async throws {
        // /proc accepts no new files, even from root.
        let path = "/proc/keel-\(UUID().uuidString).sqlite"
        do {
            _ = try await SQLiteDatabase(path: path)
            Issue.record("opening in a read-only location must fail")
        } catch let error as SQLiteError {
            #expect(error.message.contains(path), "\(error)")
            #expect(error.message.contains("read-only"), "\(error)")
        }
    }

    @Test func aFileThatIsNotADatabaseIsNamed() async throws {
        let path = try TestDatabaseEnvironment.temporarySQLitePath()
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        do {
            _ = try await SQLiteDatabase(path: path)
            Issue.record("opening a file that is not a database must fail")
        } catch let error as SQLiteError {
            #expect(error.message.contains("not a SQLite database"), "\(error)")
            #expect(error.code.primary == .notADatabase)
        }
    }

    @Test func badSettingsAreRefusedUpFront() async throws {
        var configuration = SQLiteConfiguration(path: try TestDatabaseEnvironment.temporarySQLitePath())
        configuration.readerCount = 0
        await #expect(throws: SQLiteError.self) { _ = try await SQLiteDatabase(configuration: configuration) }
        configuration = SQLiteConfiguration(path: "")
        await #expect(throws: SQLiteError.self) { _ = try await SQLiteDatabase(configuration: configuration) }
    }

    @Test func constraintErrorsCarryCodeAndSQL() async throws {
        try await withDatabase { database in
            try await database.execute("CREATE TABLE t (email TEXT UNIQUE)")
            try await database.execute("INSERT INTO t (email) VALUES (\("a@example.com"))")
            do {
                try await database.execute("INSERT INTO t (email) VALUES (\("a@example.com"))")
                Issue.record("a duplicate must fail")
            } catch let error as SQLiteError {
                #expect(error.isUniqueViolation)
                #expect(error.sql == "INSERT INTO t (email) VALUES (?)")
                #expect(!error.description.contains("a@example.com"))
                #expect(error.code == .constraintUnique && error.code.primary == .constraint)
            }
            do {
                try await database.execute("INSERT INTO t (email) VALUES (\("a@example.com"))")
                Issue.record("a duplicate must fail")
            } catch SQLiteError.Code.busy {
                Issue.record("a constraint violation is not busy")
            } catch SQLiteError.Code.constraint {
                // caught by its primary code
            }
        }
    }

    // MARK: Closing

    /// Close waits for running work, checkpoints the WAL into the file, and refuses later work.
    @Test func closeWaitsCheckpointsAndRefuses() async throws {
        let path = try TestDatabaseEnvironment.temporarySQLitePath()
        let database = try await SQLiteDatabase(path: path)
        try await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        let writing = Signal()
        let write = Task {
            try await database.write { connection in
                writing.fire()
                for id in 1...20_000 { try connection.execute("INSERT INTO t (id) VALUES (\(id))") }
            }
        }
        await writing.wait()
        await database.close()
        try await write.value  // the running write finished before the close completed
        let walSize = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        #expect(walSize == 0, "the WAL was checkpointed into the database and truncated")
        // Refused as PostgreSQL's pool refuses work after shutdown.
        let refused = await #expect(throws: PoolError.self) { _ = try await database.query("SELECT 1") }
        #expect(refused?.code == .shutdown)
        await database.close()  // a second close returns at once

        let reopened = try await SQLiteDatabase(path: path)
        let count = try await reopened.query("SELECT COUNT(*) AS n FROM t")[0].decode(Int.self, "n")
        #expect(count == 20_000)
        await reopened.close()
    }

    /// In memory, reads and writes share one connection and see each other's committed work.
    @Test func inMemoryDatabaseWorks() async throws {
        let database = try await SQLiteDatabase(configuration: .inMemory())
        try await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        try await database.write { try $0.execute("INSERT INTO t (id) VALUES (1)") }
        let count = try await database.read { try $0.query("SELECT COUNT(*) AS n FROM t")[0].decode(Int.self, "n") }
        #expect(count == 1)
        #expect(database.statistics.readerCount == 0)
        await database.close()
    }

    func path(of database: SQLiteDatabase) throws -> String {
        guard case .file(let path) = database.configuration.location else { throw CancellationError() }
        return path
    }
}

@Suite struct SQLiteSchemaChangeTests {
    /// A cached `SELECT *` returns the new column after `ALTER TABLE ... ADD COLUMN`.
    @Test func cachedStatementSeesANewColumn() async throws {
        try await withDatabase { database in
            let names = try await database.write { connection in
                try connection.execute("CREATE TABLE t (a INTEGER)")
                try connection.execute("INSERT INTO t (a) VALUES (1)")
                let before = try connection.query("SELECT * FROM t")[0].columns.names
                try connection.execute("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'")
                let after = try connection.query("SELECT * FROM t")[0]
                return (before, after.columns.names, try after.decode(String.self, "b"))
            }
            #expect(names.0 == ["a"])
            #expect(names.1 == ["a", "b"])
            #expect(names.2 == "x")
        }
    }
}
