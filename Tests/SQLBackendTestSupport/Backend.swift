import Foundation
import KeelTesting
import Pooling
import PostgresPool
public import SQLCore
import SQLitePool
import Testing

/// The backends the SQL integration tests run on: SQLite always, PostgreSQL when scripts/test.sh
/// started one (or in CI, where a missing one fails). Shared by the Batching and Migrations tests.
public enum Backend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite, postgres

    /// The backends this run tests.
    public static var available: [Backend] { TestDatabaseEnvironment.runsPostgresTests ? [.sqlite, .postgres] : [.sqlite] }

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
        case .postgres:
            var pool = PoolConfiguration()
            pool.maxConnections = 4
            let database = try PostgresDatabase(
                configuration: PostgresConfiguration(connectionString: TestDatabaseEnvironment.requirePostgresURL()), pool: pool)
            return try await withRunning(database.run, shutdown: database.shutdown) {
                let outcome: Swift.Result<Result, any Error>
                do { outcome = .success(try await body(database, table)) } catch { outcome = .failure(error) }
                _ = try? await database.execute("DROP TABLE IF EXISTS \(identifier: table)")
                return try outcome.get()
            }
        }
    }
}
