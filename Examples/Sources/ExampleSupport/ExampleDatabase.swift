import Foundation
import Logging
public import Pooling
public import PostgresPool
public import SQLCore
public import SQLitePool
public import ServiceLifecycle

/// The database an example runs on: SQLite (a file in a new temporary folder, or `--database
/// PATH`) by default, PostgreSQL when `DATABASE_URL` is set.
///
/// ```swift
/// let store = try await ExampleDatabase.open(databasePath: nil)
/// print("database: \(store.location)")
/// try await store.run { database in try await database.execute("SELECT 1") }
/// ```
public struct ExampleDatabase: Sendable {
    /// The backend behind ``database``.
    public enum Backend: Sendable {
        /// Keel's SQLitePool.
        case sqlite(SQLiteDatabase)
        /// Keel's PostgresPool.
        case postgres(PostgresDatabase)
    }

    /// The backend.
    public let backend: Backend
    /// Where the data is, for printing (never with a password).
    public let location: String

    /// The database as SQLCore sees it.
    public var database: any SQLDatabase {
        switch backend {
        case .sqlite(let database): database
        case .postgres(let database): database
        }
    }

    /// The backend as a swift-service-lifecycle `Service`, for a `ServiceGroup` or an
    /// application's `services:`: it keeps the database open (the PostgreSQL pool running) until
    /// graceful shutdown, then closes it.
    public var service: any Service {
        switch backend {
        case .sqlite(let database): database
        case .postgres(let database): database
        }
    }

    /// Whether this is PostgreSQL.
    public var isPostgres: Bool {
        if case .postgres = backend { return true }
        return false
    }

    /// The pool's statistics: PostgreSQL's pool, or SQLite's readers (its writer in memory).
    public var poolStatistics: PoolStatistics? {
        switch backend {
        case .sqlite(let database): (database.readerPool ?? database.writerPool).statistics
        case .postgres(let database): database.pool.statistics
        }
    }

    /// Sends the pools' statistics to their metrics factory (`keel_pool_…`; for `/metrics`).
    public func publishMetrics() {
        switch backend {
        case .sqlite(let database):
            database.readerPool?.publishMetrics()
            database.writerPool.publishMetrics()
        case .postgres(let database): database.pool.publishMetrics()
        }
    }

    /// Opens the example's database: PostgreSQL when `environment` has a non-empty `DATABASE_URL`
    /// and no `databasePath` was given, else SQLite at `databasePath` or in a new temporary folder.
    /// Statements that take 1 s or longer are logged as warnings (with their text, never their
    /// binds).
    ///
    /// - Parameters:
    ///   - pool: The PostgreSQL pool's settings.
    ///   - adjustSQLite: Changes to the SQLite settings (PRAGMAs).
    public static func open(
        databasePath: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        pool: PoolConfiguration = quietPoolConfiguration(),
        adjustSQLite: (inout SQLiteConfiguration) -> Void = { _ in }
    ) async throws -> ExampleDatabase {
        var logger = Logger(label: "keel.example")
        logger.logLevel = .warning
        if databasePath == nil, let url = environment["DATABASE_URL"], !url.isEmpty {
            var configuration = try PostgresConfiguration(connectionString: url, logger: logger)
            configuration.slowStatementLogLevel = .warning
            let database = try PostgresDatabase(configuration: configuration, pool: pool)
            return ExampleDatabase(backend: .postgres(database), location: "PostgreSQL (\(configuration))")
        }
        let path: String
        if let databasePath {
            path = databasePath
        } else {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-example-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            path = folder.appendingPathComponent("example.sqlite").path
        }
        var configuration = SQLiteConfiguration(path: path, logger: logger)
        configuration.slowStatementLogLevel = .warning
        adjustSQLite(&configuration)
        let database = try await SQLiteDatabase(configuration: configuration)
        return ExampleDatabase(backend: .sqlite(database), location: "SQLite at \(path)")
    }

    /// Pool defaults that log warnings only.
    public static func quietPoolConfiguration() -> PoolConfiguration {
        var logger = Logger(label: "keel.example.pool")
        logger.logLevel = .warning
        return PoolConfiguration(logger: logger)
    }

    /// Runs `body` with the database open (the PostgreSQL pool running), then closes it.
    public func run<Result: Sendable>(_ body: (any SQLDatabase) async throws -> Result) async throws -> Result {
        switch backend {
        case .sqlite(let sqlite):
            do {
                let result = try await body(sqlite)
                await sqlite.close()
                return result
            } catch {
                await sqlite.close()
                throw error
            }
        case .postgres(let postgres):
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await postgres.run() }
                do {
                    let result = try await body(postgres)
                    await postgres.shutdown()
                    try await group.waitForAll()
                    return result
                } catch {
                    await postgres.shutdown()
                    try? await group.waitForAll()
                    throw error
                }
            }
        }
    }
}
