import Foundation
import KeelTesting
import Pooling
import PostgresPool
public import SQLCore
import SQLitePool
import Testing

/// The backends the SQL integration tests run on: SQLite always, PostgreSQL directly (with leased
/// connections, and multiplexed: `multiplexedConnections = 2`) and through PgBouncer in
/// transaction mode when scripts/test.sh started them (or in CI, where a missing one fails).
/// Shared by the Batching and Migrations tests.
public enum Backend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite, postgres, postgresMultiplexed, pgBouncer

    /// The backends this run tests.
    public static var available: [Backend] {
        var backends: [Backend] = [.sqlite]
        if TestDatabaseEnvironment.runsPostgresTests { backends += [.postgres, .postgresMultiplexed] }
        if TestDatabaseEnvironment.runsPgBouncerTests { backends.append(.pgBouncer) }
        return backends
    }

    /// Whether the database is PostgreSQL (directly or through PgBouncer).
    public var isPostgres: Bool { self != .sqlite }

    /// The backend's name.
    public var description: String { rawValue }

    /// Opens a database of this backend, runs `body` with it and a table name of its own, closes it.
    public func withDatabase<Result: Sendable>(_ body: (any SQLDatabase, String) async throws -> Result) async throws -> Result {
        let table = "keel_test_\(UUID().uuidString.prefix(8).lowercased())"
        switch self {
        case .sqlite:
            let database = try await SQLiteDatabase(path: try TestDatabaseEnvironment.temporarySQLitePath())
            do {
                let result = try await body(database, table)
                await database.close()
                return result
            } catch {
                await database.close()
                throw error
            }
        case .postgres, .postgresMultiplexed, .pgBouncer:
            var pool = PoolConfiguration()
            pool.maxConnections = 4
            var configuration: PostgresConfiguration
            if self == .pgBouncer {
                configuration = try PostgresConfiguration(connectionString: TestDatabaseEnvironment.requirePgBouncerURL())
                configuration.pgBouncerTransactionMode = true
            } else {
                configuration = try PostgresConfiguration(connectionString: TestDatabaseEnvironment.requirePostgresURL())
                if self == .postgresMultiplexed { configuration.multiplexedConnections = 2 }
            }
            let database = try PostgresDatabase(configuration: configuration, pool: pool)
            return try await withRunning(database.run, shutdown: database.shutdown) {
                let outcome: Swift.Result<Result, any Error>
                do { outcome = .success(try await body(database, table)) } catch { outcome = .failure(error) }
                _ = try? await database.execute("DROP TABLE IF EXISTS \(identifier: table)")
                return try outcome.get()
            }
        }
    }
}
