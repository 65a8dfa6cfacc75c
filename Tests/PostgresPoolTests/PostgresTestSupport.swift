import Foundation
import Logging
import Pooling
import PostgresPool
import KeelTesting
import Testing

/// The suites that use the throwaway PostgreSQL, one at a time: the server shares the machine's
/// two cores with the tests, and timing checks (a cancel within its bound) need it not swamped
/// by a 100,000-row COPY or 10,000 tasks running beside them.
@Suite(.serialized) struct PostgresServerTests {}

/// Connections and pools on the throwaway PostgreSQL from scripts/test.sh.
enum PostgresTestSupport {
    static func configuration(
        _ adjust: (inout PostgresConfiguration) -> Void = { _ in }
    ) throws -> PostgresConfiguration {
        var configuration = try PostgresConfiguration(connectionString: TestDatabaseEnvironment.requirePostgresURL())
        adjust(&configuration)
        return configuration
    }

    @discardableResult
    static func withConnection<Result>(
        _ adjust: (inout PostgresConfiguration) -> Void = { _ in },
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await PostgresConnection.connect(configuration: configuration(adjust))
        defer { connection.close() }
        return try await body(connection)
    }

    /// A running pool-backed database, shut down after `body`.
    @discardableResult
    static func withDatabase<Result: Sendable>(
        maxConnections: Int = 4,
        multiplexedConnections: Int = 0,
        _ body: (PostgresDatabase) async throws -> Result
    ) async throws -> Result {
        var pool = PoolConfiguration()
        pool.maxConnections = maxConnections
        pool.validation = .never
        let database = try PostgresDatabase(
            configuration: configuration { $0.multiplexedConnections = multiplexedConnections }, pool: pool)
        return try await withRunning(database.run, shutdown: database.shutdown) { try await body(database) }
    }

    /// A table name no other test uses.
    static func uniqueTable(_ prefix: String) -> String {
        "keel_\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Returns once `SELECT pg_sleep(10)` runs on the server (watched from another session).
    static func waitUntilASleepRuns() async throws {
        try await withConnection { admin in
            while true {
                let rows = try await admin.query(
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(10)' AND state = 'active'")
                if rows[0]["n"] == .int64(1) { return }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    /// The number of open file descriptors of this process.
    static func openFileDescriptors() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }
}

/// A counter tasks share.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
