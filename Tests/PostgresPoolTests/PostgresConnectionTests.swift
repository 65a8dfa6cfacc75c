import Foundation
import Logging
import PostgresPool
import SQLCore
import KeelTesting
import Testing

/// One connection against the throwaway PostgreSQL: types, errors, cancellation, pipeline, COPY.
extension PostgresServerTests {
    @Suite(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
    struct PostgresConnectionTests {
        @Test func everyTypeRoundTripsWithNullsExtremesUnicodeAndOneMegabyte() async throws {
            try await PostgresTestSupport.withConnection { connection in
                let megabyteText = String(repeating: "é€𝄞a", count: 1 << 18 / 2)
                let megabyteBlob = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                let date = Date(timeIntervalSince1970: 1_700_000_000.123456)
                let uuid = UUID()
                let cases: [(SQLValue, String)] = [
                    (.bool(true), "boolean"), (.bool(false), "boolean"),
                    (.int64(.max), "bigint"), (.int64(.min), "bigint"), (.int64(0), "bigint"),
                    (.double(1.5e-300), "double precision"), (.double(-.greatestFiniteMagnitude), "double precision"),
                    (.double(.infinity), "double precision"), (.double(0.1), "double precision"),
                    (.text(""), "text"), (.text("naïve 日本語 🚀 'quoted' \\ back\tslash\n"), "text"),
                    (.text(megabyteText), "text"),
                    (.blob([]), "bytea"), (.blob([0, 255, 0, 10, 92]), "bytea"), (.blob(megabyteBlob), "bytea"),
                    (.date(date), "timestamptz"), (.uuid(uuid), "uuid"),
                    (.json(#"{"a":[1,2,{"b":null}],"ü":"✓"}"#), "json"),
                ]
                for (value, type) in cases {
                    let rows = try await connection.query("SELECT \(value)::\(unsafeRaw: type) AS v, NULL::\(unsafeRaw: type) AS n")
                    #expect(rows[0]["v"] == value, "\(type)")
                    #expect(rows[0]["n"] == .null, "\(type)")
                }
                let nan = try await connection.query("SELECT \(Double.nan)::float8 AS v")
                guard case .double(let value) = nan[0][0] else { Issue.record("NaN is not a double"); return }
                #expect(value.isNaN)
                let jsonb = try await connection.query("SELECT \(SQLValue.json(#"{"k": 1}"#))::jsonb AS v")
                #expect(jsonb[0][0] == .json(#"{"k": 1}"#))
                let integers = try await connection.query("SELECT 7::int2 AS a, 8::int4 AS b, 9.5::numeric AS c, 10::numeric AS d")
                #expect(integers[0].values == [.int64(7), .int64(8), .double(9.5), .int64(10)])
            }
        }

        @Test func aUniqueViolationCarriesItsSQLStateAndConstraintButNoValue() async throws {
            try await PostgresTestSupport.withConnection { connection in
                let table = PostgresTestSupport.uniqueTable("unique")
                try await connection.execute("CREATE TEMP TABLE \(identifier: table) (token text CONSTRAINT token_key UNIQUE)")
                let secret = "hunter2-\(UUID().uuidString)"
                try await connection.execute("INSERT INTO \(identifier: table) VALUES (\(secret))")
                let error = await #expect(throws: PostgresError.self) {
                    try await connection.execute("INSERT INTO \(identifier: table) VALUES (\(secret))")
                }
                #expect(error?.sqlState == "23505")
                #expect(error?.isUniqueViolation == true)
                #expect(error?.constraint == "token_key")
                #expect(error?.detail?.contains("<redacted>") == true)
                #expect(!"\(String(describing: error)) \(String(reflecting: error))".contains(secret))
                #expect(error?.detail?.contains(secret) == false)
                // The connection is fine afterwards.
                #expect(try await connection.query("SELECT 1 AS one")[0]["one"] == .int64(1))
            }
        }

        @Test func aBadBindIsRedactedInTheServerMessage() async throws {
            try await PostgresTestSupport.withConnection { connection in
                let error = await #expect(throws: PostgresError.self) {
                    try await connection.query("SELECT \("not-a-number-s3cr3t")::int AS v")
                }
                #expect(error?.sqlState == "22P02")
                #expect(error?.message.contains("s3cr3t") == false)
            }
        }

        @Test func cancellingATaskCancelsTheStatementOnTheServerAndKeepsTheConnection() async throws {
            try await PostgresTestSupport.withConnection { connection in
                let started = ContinuousClock.now
                let sleeper = Task { _ = try await connection.execute("SELECT pg_sleep(10)") }
                // Cancel once the statement runs on the server (watched from another session).
                try await PostgresTestSupport.waitUntilASleepRuns()
                let cancelledAt = ContinuousClock.now
                sleeper.cancel()
                await #expect(throws: CancellationError.self) { try await sleeper.value }
                let took = cancelledAt.duration(to: .now)
                // 2–5 ms measured with the PostgreSQL suites serialized; the issue's bound is 200 ms.
                #expect(took < TestDatabaseEnvironment.timingBound(.milliseconds(200)), "cancel took \(took)")
                print("figure: postgres/cancel-pg-sleep value=\(took) (measured in the test run)")
                #expect(started.duration(to: .now) < .seconds(9))
                #expect(try await connection.query("SELECT 1 AS one")[0]["one"] == .int64(1))
                #expect(!connection.isBroken)
            }
        }

        @Test func aCancellationBeforeTheStatementRunsStopsIt() async throws {
            try await PostgresTestSupport.withConnection { connection in
                // Cancelled before it starts: nothing is sent, and the connection stays usable.
                let started = ContinuousClock.now
                let task = Task {
                    withUnsafeCurrentTask { $0?.cancel() }
                    _ = try await connection.execute("SELECT pg_sleep(10)")
                }
                await #expect(throws: CancellationError.self) { try await task.value }
                #expect(started.duration(to: .now) < .seconds(9))
                let after = try await connection.query("SELECT 4 AS four")
                #expect(after[0]["four"] == .int64(4))
            }
        }

        @Test func aStatementTimeoutEndsTheStatementAndKeepsTheConnection() async throws {
            try await PostgresTestSupport.withConnection({ $0.statementTimeout = .milliseconds(50) }) { connection in
                let error = await #expect(throws: PostgresError.self) { _ = try await connection.execute("SELECT pg_sleep(5)") }
                #expect(error?.isQueryCanceled == true)
                let after = try await connection.query("SELECT 2 AS two")
                #expect(after[0]["two"] == .int64(2))
            }
        }

        @Test func aQueryTimeoutFailsOnTimeClosesTheConnectionAndStopsTheServerWork() async throws {
            let marker = "keel_query_timeout_\(UInt32.random(in: 0...UInt32.max))"
            let clock = ManualClock()
            try await PostgresTestSupport.withConnection({
                $0.queryTimeout = .milliseconds(300)
                $0.clock = clock
            }) { connection in
                let statement = Task { _ = try await connection.execute("SELECT pg_sleep(10), \(marker)::text") }
                // The timer waits on the manual clock; nothing fires before it reaches 300 ms.
                #expect(await clock.waitForSleepers(1))
                clock.advance(by: .milliseconds(299))
                #expect(clock.sleeperCount == 1)
                clock.advance(by: .milliseconds(1))
                let error = await #expect(throws: PostgresError.self) { try await statement.value }
                #expect(error?.isTimeout == true, "\(String(describing: error))")
                #expect(error?.isConnectionFailure == false)
                #expect(connection.isBroken)
                await #expect(throws: PostgresError.self) { _ = try await connection.query("SELECT 1") }
            }
            // The cancel request stopped the statement on the server, whose session then ended.
            try await PostgresTestSupport.withConnection { admin in
                var running = 1
                for _ in 0..<200 where running > 0 {
                    try await Task.sleep(for: .milliseconds(10))
                    running = try await admin.query(
                        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE \("%" + marker + "%") AND pid <> pg_backend_pid()"
                    )[0].decode(Int.self, at: 0)
                }
                #expect(running == 0, "the timed-out statement still runs on the server")
            }
        }

        @Test func aCancelledStatementWhoseServerNeverAnswersGivesUpAfterTheGracePeriod() async throws {
            let url = try #require(URL(string: TestDatabaseEnvironment.requirePostgresURL()))
            let upstreamPort = try #require(url.port)
            let proxy = try TCPFaultProxy(upstreamPort: upstreamPort)
            defer { proxy.stop() }
            var configuration = try PostgresConfiguration(
                connectionString: url.absoluteString.replacingOccurrences(of: ":\(upstreamPort)/", with: ":\(proxy.port)/"))
            configuration.cancelGracePeriod = .milliseconds(200)
            let clock = ManualClock()
            configuration.clock = clock
            let connection = try await PostgresConnection.connect(configuration: configuration)
            defer { connection.close() }
            #expect(try await connection.query("SELECT 1 AS one")[0]["one"] == .int64(1))

            // The network goes silent: the statement and its cancel request get no answer.
            proxy.mode = .blackhole
            let task = Task { try await connection.query("SELECT 2") }
            try await Task.sleep(for: .milliseconds(50))
            task.cancel()
            // The grace period runs on the manual clock: the statement waits until it is over.
            #expect(await clock.waitForSleepers(1))
            clock.advance(by: .milliseconds(199))
            #expect(clock.sleeperCount == 1)
            clock.advance(by: .milliseconds(1))
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(connection.isBroken)
        }

        @Test func aPipelineOfAThousandStatementsRunsInOneRoundTripAndAtomically() async throws {
            try await PostgresTestSupport.withConnection { connection in
                let table = PostgresTestSupport.uniqueTable("pipeline")
                try await connection.execute("CREATE TEMP TABLE \(identifier: table) (id bigint PRIMARY KEY, name text)")
                let inserts: [SQLStatement] = (0..<1000).map { "INSERT INTO \(identifier: table) VALUES (\($0), \("n\($0)"))" }
                let wakeupsBefore = connection.reactorWakeups
                let affected = try await connection.executeBatch(inserts)
                let wakeups = connection.reactorWakeups - wakeupsBefore
                #expect(affected == Array(repeating: 1, count: 1000))
                #expect(wakeups < 100, "a pipeline waits for the socket far fewer times than it has statements: \(wakeups)")
                #expect(try await connection.query("SELECT count(*) AS n FROM \(identifier: table)")[0]["n"] == .int64(1000))

                // One failing statement: nothing of the batch takes effect.
                let failing: [SQLStatement] = [
                    "INSERT INTO \(identifier: table) VALUES (\(5000), \("new"))",
                    "INSERT INTO \(identifier: table) VALUES (\(1), \("duplicate"))",
                    "INSERT INTO \(identifier: table) VALUES (\(5001), \("new"))",
                ]
                let error = await #expect(throws: PostgresError.self) { try await connection.executeBatch(failing) }
                #expect(error?.isUniqueViolation == true)
                #expect(try await connection.query("SELECT count(*) AS n FROM \(identifier: table)")[0]["n"] == .int64(1000))
            }
        }

        @Test func copyLoadsAHundredThousandRowsWithEscapesAndNulls() async throws {
            try await PostgresTestSupport.withConnection { connection in
                let table = PostgresTestSupport.uniqueTable("copy")
                try await connection.execute(
                    "CREATE TEMP TABLE \(identifier: table) (id bigint, name text, payload bytea, at timestamptz, ok boolean)")
                let date = Date(timeIntervalSince1970: 1_650_000_000.5)
                @Sendable func row(_ index: Int) -> [SQLValue] {
                    let name: SQLValue = index % 10 == 0 ? .null : .text("row\t\(index)\n\\ é")
                    let payload: SQLValue = .blob([UInt8(index % 256), 0])
                    return [.int64(Int64(index)), name, payload, .date(date), .bool(index % 2 == 0)]
                }
                let rows = (0..<100_000).lazy.map(row)
                let copied = try await connection.copy(into: table, columns: ["id", "name", "payload", "at", "ok"], rows: rows)
                #expect(copied == 100_000)
                let check = try await connection.query(
                    "SELECT count(*) AS n, count(name) AS named, sum(id) AS total FROM \(identifier: table)")
                #expect(check[0].values == [.int64(100_000), .int64(90_000), .int64(4_999_950_000)])
                let sample = try await connection.query("SELECT * FROM \(identifier: table) WHERE id = \(12345)")
                #expect(sample[0].values == [.int64(12345), .text("row\t12345\n\\ é"), .blob([57, 0]), .date(date), .bool(false)])

                // A row of the wrong width aborts the copy: nothing is loaded.
                await #expect(throws: PostgresError.self) {
                    try await connection.copy(into: table, columns: ["id"], rows: [[.int64(1)], [.int64(2), .null]])
                }
                #expect(try await connection.query("SELECT count(*) AS n FROM \(identifier: table)")[0]["n"] == .int64(100_000))
            }
        }

        @Test func copyStatementsThroughExecuteFailClearly() async throws {
            try await PostgresTestSupport.withConnection { connection in
                let table = PostgresTestSupport.uniqueTable("copyexec")
                try await connection.execute("CREATE TEMP TABLE \(identifier: table) (id bigint)")
                let into = await #expect(throws: PostgresError.self) {
                    try await connection.execute("COPY \(identifier: table) FROM STDIN")
                }
                #expect(into?.code == .client)
                #expect(try await connection.query("SELECT count(*) AS n FROM \(identifier: table)")[0]["n"] == .int64(0))
                let out = await #expect(throws: PostgresError.self) {
                    try await connection.execute("COPY \(identifier: table) TO STDOUT")
                }
                #expect(out?.code == .client)
                #expect(connection.isBroken, "a connection left in COPY OUT is given up")
            }
        }

        @Test func rowsStreamOneAtATimeAndAThrowingBodyCancelsTheRest() async throws {
            try await PostgresTestSupport.withConnection { connection in
                var sum: Int64 = 0
                var count = 0
                try await connection.forEachRow("SELECT g AS n FROM generate_series(1, \(50_000)) AS g") { row in
                    sum += try row.decode(Int64.self, "n")
                    count += 1
                }
                #expect(count == 50_000 && sum == 1_250_025_000)

                struct Enough: Error {}
                var seen = 0
                await #expect(throws: Enough.self) {
                    try await connection.forEachRow("SELECT g AS n FROM generate_series(1, 10000000) AS g") { _ in
                        seen += 1
                        if seen == 10 { throw Enough() }
                    }
                }
                #expect(seen == 10)
                #expect(try await connection.query("SELECT 3 AS three")[0]["three"] == .int64(3))
            }
        }

        @Test func preparedStatementsAreCachedAndEvictedLeastRecentlyUsedFirst() async throws {
            try await PostgresTestSupport.withConnection({ $0.statementCacheCapacity = 3 }) { connection in
                for round in 0..<3 {
                    for index in 0..<5 {
                        let rows = try await connection.query("SELECT \(Int64(round)) + \(unsafeRaw: String(index)) AS v")
                        #expect(rows[0]["v"] == .int64(Int64(round + index)))
                    }
                }
                #expect(connection.preparedStatementCount == 3)
                let prepared = try await connection.query("SELECT count(*) AS n FROM pg_prepared_statements")
                // The count query itself was prepared (evicting one), so the server holds exactly the cache.
                #expect(prepared[0]["n"] == .int64(3))
            }
            try await PostgresTestSupport.withConnection({ $0.statementCacheCapacity = 0 }) { connection in
                for index in 0..<5 { _ = try await connection.query("SELECT \(Int64(index)) AS v") }
                #expect(connection.preparedStatementCount == 0)
                #expect(try await connection.query("SELECT count(*) AS n FROM pg_prepared_statements")[0]["n"] == .int64(0))
            }
        }

        @Test func aStatementRunAgainIsKeptOverOnesUsedLessRecently() async throws {
            try await PostgresTestSupport.withConnection({ $0.statementCacheCapacity = 3 }) { connection in
                for text in ["SELECT 1 AS a", "SELECT 2 AS b", "SELECT 3 AS c", "SELECT 1 AS a", "SELECT 4 AS d"] {
                    _ = try await connection.query(SQLStatement(stringLiteral: text))
                }
                // Preparing this query evicts the least recently used of a, c and d: c.
                let rows = try await connection.query("SELECT statement FROM pg_prepared_statements ORDER BY statement")
                let texts = try rows.map { try $0.decode(String.self, "statement") }
                #expect(
                    texts == ["SELECT 1 AS a", "SELECT 4 AS d", "SELECT statement FROM pg_prepared_statements ORDER BY statement"])
            }
        }

        @Test func pipelinesReuseThePreparedStatementOfTheirSQLText() async throws {
            try await PostgresTestSupport.withConnection({ $0.statementCacheCapacity = 3 }) { connection in
                // 200 statements, one SQL text: prepared once, before the pipeline.
                let selects: [SQLStatement] = (0..<200).map { "SELECT \(Int64($0)) * 2 AS v" }
                let results = try await connection.queryPipelined(selects)
                #expect(results.map { $0[0]["v"] } == (0..<200).map { .int64(Int64($0) * 2) })
                #expect(connection.preparedStatementCount == 1)
                let names = try await connection.query("SELECT name FROM pg_prepared_statements ORDER BY name")
                #expect(names.count == 2, "the pipeline's statement and this query's")

                // More distinct texts than the cache holds: they run unprepared, and still in order.
                let distinct: [SQLStatement] = (0..<5).map { "SELECT \(Int64($0)) + \(unsafeRaw: String($0)) AS v" }
                let sums = try await connection.queryPipelined(distinct)
                #expect(sums.map { $0[0]["v"] } == (0..<5).map { .int64(Int64($0) * 2) })
                #expect(connection.preparedStatementCount == 2)
            }
        }

        @Test func noticesGoToTheLogger() async throws {
            let handler = RecordingLogHandler()
            let logger = Logger(label: "test") { _ in handler }
            try await PostgresTestSupport.withConnection({ $0.logger = logger }) { connection in
                try await connection.execute("DO $$ BEGIN RAISE NOTICE 'hello from plpgsql'; END $$")
            }
            #expect(handler.recorded.contains { $0.contains("hello from plpgsql") })
        }

        @Test func usingOneConnectionFromTwoTasksAtOnceIsRefused() async throws {
            try await PostgresTestSupport.withConnection { connection in
                let slow = Task { _ = try await connection.execute("SELECT pg_sleep(0.3)") }
                try await Task.sleep(for: .milliseconds(50))
                let error = await #expect(throws: PostgresError.self) { _ = try await connection.execute("SELECT 1") }
                #expect(error?.code == .client)
                try await slow.value
            }
        }

        /// libpq closes the socket of a connection it finds lost, and the next socket the process
        /// opens may get the same descriptor number. Closing the lost connection afterwards must
        /// leave the new connection's socket watched: it once removed it from the reactor's epoll
        /// set by that number, and the new connection's next answer never arrived.
        @Test(.timeLimit(.minutes(1)))
        func closingALostConnectionLeavesTheNextConnectionWorking() async throws {
            let configuration = try PostgresTestSupport.configuration { $0.queryTimeout = .seconds(5) }
            try await PostgresTestSupport.withConnection { admin in
                for round in 0..<5 {
                    let lost = try await PostgresConnection.connect(configuration: configuration)
                    let pid = try await lost.query("SELECT pg_backend_pid()")[0].decode(Int.self, at: 0)
                    let ended = try await admin.query("SELECT pg_terminate_backend(\(pid)::int, 5000)")
                    #expect(ended[0][0] == .bool(true))
                    await #expect(throws: PostgresError.self) { _ = try await lost.query("SELECT 1") }
                    #expect(lost.isBroken)
                    let next = try await PostgresConnection.connect(configuration: configuration)
                    lost.close()
                    let rows = try await next.query("SELECT \(round)::int8")
                    #expect(rows[0][0] == .int64(Int64(round)))
                    next.close()
                }
            }
        }
    }
}
