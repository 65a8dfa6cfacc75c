import CoreMetrics
import Foundation
import InMemoryTracing
import KeelTesting
import Logging
import MetricsTestKit
import Pooling
import PostgresPool
import SQLBackendTestSupport
import SQLCore
import SQLitePool
import Testing
import Tracing

/// The statements of both SQL backends: their `db.query` spans (nested under the caller's span,
/// after a `pool.acquire` span), their duration timer, and the slow-statement log.
@Suite struct StatementObservationTests {
    /// A secret bound to the statements: it must never reach a span or a log.
    static let secret = "bind-value-never-shown"

    @Test(arguments: Backend.available)
    func aStatementIsADatabaseSpanUnderTheCallersSpanWithoutItsBinds(_ backend: Backend) async throws {
        try await backend.withDatabase { database, _ in
            let (rows, spans) = try await SpanRecorder.record("request") {
                try await database.query("SELECT \(Self.secret) AS v")
            }
            #expect(try rows.first?.decode(String.self, at: 0) == Self.secret)
            let root = try #require(spans.last)
            #expect(root.operationName == "request")
            let statement = try #require(spans.first { $0.operationName == "db.query" })
            #expect(statement.parentSpanID == root.spanID)
            #expect(statement.kind == .client)
            #expect(statement.attributes.text("db.system.name") == (backend.isPostgres ? "postgresql" : "sqlite"))
            #expect(statement.attributes.text("db.operation.name") == "SELECT")
            let text = try #require(statement.attributes.text("db.query.text"))
            #expect(text == (backend.isPostgres ? "SELECT $1 AS v" : "SELECT ? AS v"))
            if backend == .postgresMultiplexed {
                // A multiplexed statement leases no connection: its lane's driver does, outside
                // any caller's trace.
                #expect(!spans.contains { $0.operationName == "pool.acquire" && [root.spanID, statement.spanID].contains($0.parentSpanID) })
            } else {
                let acquire = try #require(spans.first { $0.operationName == "pool.acquire" })
                #expect(acquire.parentSpanID == root.spanID)
                #expect(acquire.attributes.text("keel.pool.name") != nil)
                #expect(acquire.attributes.text("keel.pool.wait_seconds") != nil)
            }
            #expect(!spans.contains { span in "\(span.attributes)".contains(Self.secret) })
        }
    }

    @Test(arguments: Backend.available)
    func aTracerBoundToTheTaskRecordsItsStatements(_ backend: Backend) async throws {
        try await backend.withDatabase { database, _ in
            let tracer = InMemoryTracer()
            try await withTracer(tracer) {
                _ = try await database.query("SELECT \(Self.secret) AS v")
            }
            let statements = tracer.finishedSpans.filter { $0.operationName == "db.query" }
            #expect(statements.count == 1)
            #expect(statements.first?.attributes.text("db.query.text") == (backend.isPostgres ? "SELECT $1 AS v" : "SELECT ? AS v"))
        }
    }

    @Test(arguments: Backend.available)
    func aFailedStatementRecordsItsErrorOnItsSpan(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            let (_, spans) = try await SpanRecorder.record {
                await #expect(throws: (any Error).self) { try await database.query("SELECT * FROM \(identifier: table)") }
            }
            let statement = try #require(spans.first { $0.operationName == "db.query" })
            #expect(statement.errors.count == 1)
            #expect(statement.status?.code == .error)
        }
    }

    @Test func aPoolTimesItsStatementsInItsOwnTimer() async throws {
        let metrics = TestMetrics()
        var pool = SQLiteDatabase.defaultPoolConfiguration(for: SQLiteConfiguration(path: "unused"))
        pool.metricsFactory = metrics
        pool.name = "timed"
        let database = try await SQLiteDatabase(
            configuration: SQLiteConfiguration(path: try TestDatabaseEnvironment.temporarySQLitePath()), pool: pool)
        try await database.execute("CREATE TABLE t (v INTEGER)")
        try await database.execute("INSERT INTO t VALUES (\(1))")
        _ = try await database.query("SELECT v FROM t")
        await database.close()
        let timer = try metrics.expectTimer("keel_sql_statement_duration", [("pool", "timed"), ("system", "sqlite")])
        #expect(timer.values.count == 3)
        #expect(timer.values.allSatisfy { $0 > 0 })
    }

    @Test func aPostgresPoolTimesItsStatementsInItsOwnTimer() async throws {
        guard TestDatabaseEnvironment.runsPostgresTests else { return }
        let metrics = TestMetrics()
        var pool = PoolConfiguration()
        pool.metricsFactory = metrics
        pool.name = "timed"
        let database = try PostgresDatabase(
            configuration: PostgresConfiguration(connectionString: TestDatabaseEnvironment.requirePostgresURL()), pool: pool)
        try await withRunning(database.run, shutdown: database.shutdown) {
            for key in 0..<5 { _ = try await database.query("SELECT \(key)::int AS v") }
        }
        let timer = try metrics.expectTimer("keel_sql_statement_duration", [("pool", "timed"), ("system", "postgresql")])
        #expect(timer.values.count == 5)
    }

    @Test func poolsAndModulesReportToTheBootstrappedFactoryByDefault() {
        #expect(PoolConfiguration().metricsFactory.map { ObjectIdentifier($0 as AnyObject) } == ObjectIdentifier(MetricsSystem.factory as AnyObject))
    }

    @Test(arguments: Backend.available)
    func aStatementOverTheThresholdIsLoggedOnceWithItsTextAndNoBinds(_ backend: Backend) async throws {
        let handler = RecordingLogHandler()
        let logger = Logger(label: "slow") { _ in handler }
        try await withDatabase(backend, logger: logger, threshold: .zero, level: .warning) { database in
            _ = try await database.query("SELECT \(Self.secret) AS v")
        }
        let lines = handler.recorded.filter { $0.contains("slow statement") }
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasPrefix("warning slow statement"))
        #expect(line.contains(backend.isPostgres ? "SELECT $1 AS v" : "SELECT ? AS v"))
        #expect(line.contains("duration_ms"))
        #expect(!line.contains(Self.secret))
    }

    @Test(arguments: Backend.available)
    func aFailedStatementOverTheThresholdIsLoggedAsFailed(_ backend: Backend) async throws {
        let handler = RecordingLogHandler()
        let logger = Logger(label: "slow") { _ in handler }
        try await withDatabase(backend, logger: logger, threshold: .zero, level: .warning) { database in
            await #expect(throws: (any Error).self) { try await database.query("SELECT v FROM keel_no_such_table") }
            _ = try await database.query("SELECT 1 AS v")
        }
        let lines = handler.recorded.filter { $0.contains("slow statement") }
        #expect(lines.count == 2)
        #expect(lines.first?.contains(#""outcome": failed"#) == true, "\(lines)")
        #expect(lines.last?.contains(#""outcome": succeeded"#) == true, "\(lines)")
    }

    @Test(arguments: Backend.available)
    func aStatementUnderTheThresholdIsNotLogged(_ backend: Backend) async throws {
        let handler = RecordingLogHandler()
        let logger = Logger(label: "slow") { _ in handler }
        try await withDatabase(backend, logger: logger, threshold: .seconds(3600), level: .info) { database in
            _ = try await database.query("SELECT \(Self.secret) AS v")
        }
        #expect(!handler.recorded.contains { $0.contains("slow statement") })
    }

    /// Opens a database of `backend` (PgBouncer's as PostgreSQL's) logging to `logger` with the
    /// slow-statement settings given, runs `body`, and closes it.
    func withDatabase(
        _ backend: Backend, logger: Logger, threshold: Duration, level: Logger.Level,
        _ body: (any SQLDatabase) async throws -> Void
    ) async throws {
        if backend.isPostgres {
            var configuration = try PostgresConfiguration(
                connectionString: backend == .pgBouncer
                    ? TestDatabaseEnvironment.requirePgBouncerURL() : TestDatabaseEnvironment.requirePostgresURL(),
                logger: logger)
            configuration.pgBouncerTransactionMode = backend == .pgBouncer
            configuration.slowStatementThreshold = threshold
            configuration.slowStatementLogLevel = level
            let database = try PostgresDatabase(configuration: configuration)
            try await withRunning(database.run, shutdown: database.shutdown) { try await body(database) }
        } else {
            var configuration = SQLiteConfiguration(path: try TestDatabaseEnvironment.temporarySQLitePath(), logger: logger)
            configuration.slowStatementThreshold = threshold
            configuration.slowStatementLogLevel = level
            let database = try await SQLiteDatabase(configuration: configuration)
            do { try await body(database) } catch {
                await database.close()
                throw error
            }
            await database.close()
        }
    }
}
