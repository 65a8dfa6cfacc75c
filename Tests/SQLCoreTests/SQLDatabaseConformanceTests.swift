import Foundation
import SQLCore
import KeelTesting
import Testing

/// Runs the conformance suite against a real SQLite file through the test-only adapter,
/// so the suite itself is proven before the backends adopt it.
@Suite struct SQLDatabaseConformanceTests {
    func suite() throws -> SQLDatabaseConformance {
        let path = try TestDatabaseEnvironment.temporarySQLitePath()
        return SQLDatabaseConformance(database: SQLiteTestDatabase(connection: try SQLiteTestConnection(path: path)))
    }

    @Test func roundTripsEveryValue() async throws { try await suite().roundTripsEveryValue() }
    @Test func reportsRowsAffected() async throws { try await suite().reportsRowsAffected() }
    @Test func commitsOnReturn() async throws { try await suite().commitsOnReturn() }
    @Test func rollsBackOnThrow() async throws { try await suite().rollsBackOnThrow() }
    @Test func rollsBackOnCancellation() async throws { try await suite().rollsBackOnCancellation() }
    @Test func nestsTransactionsAsSavepoints() async throws { try await suite().nestsTransactionsAsSavepoints() }
    @Test func keepsBindValuesOutOfErrors() async throws { try await suite().keepsBindValuesOutOfErrors() }
}
