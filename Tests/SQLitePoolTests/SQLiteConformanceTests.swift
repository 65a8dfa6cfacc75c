import Foundation
import SQLCore
import KeelTesting
import SQLitePool
import Testing

/// The SQLDatabase conformance suite against a database file (writer + readers) and an
/// in-memory database (one connection).
@Suite struct SQLiteConformanceTests {
    static let locations = ["file", "memory"]

    func suite(_ location: String) async throws -> (SQLDatabaseConformance, SQLiteDatabase) {
        let configuration: SQLiteConfiguration =
            location == "file"
            ? SQLiteConfiguration(path: try TestDatabaseEnvironment.temporarySQLitePath())
            : .inMemory()
        let database = try await SQLiteDatabase(configuration: configuration)
        return (SQLDatabaseConformance(database: database), database)
    }

    func check(_ location: String, _ body: (SQLDatabaseConformance) async throws -> Void) async throws {
        let (suite, database) = try await suite(location)
        do {
            try await body(suite)
        } catch {
            await database.close()
            throw error
        }
        await database.close()
    }

    @Test(arguments: locations) func roundTripsEveryValue(_ location: String) async throws {
        try await check(location) { try await $0.roundTripsEveryValue() }
    }
    @Test(arguments: locations) func reportsRowsAffected(_ location: String) async throws {
        try await check(location) { try await $0.reportsRowsAffected() }
    }
    @Test(arguments: locations) func commitsOnReturn(_ location: String) async throws {
        try await check(location) { try await $0.commitsOnReturn() }
    }
    @Test(arguments: locations) func rollsBackOnThrow(_ location: String) async throws {
        try await check(location) { try await $0.rollsBackOnThrow() }
    }
    @Test(arguments: locations) func rollsBackOnCancellation(_ location: String) async throws {
        try await check(location) { try await $0.rollsBackOnCancellation() }
    }
    @Test(arguments: locations) func nestsTransactionsAsSavepoints(_ location: String) async throws {
        try await check(location) { try await $0.nestsTransactionsAsSavepoints() }
    }
    @Test(arguments: locations) func keepsBindValuesOutOfErrors(_ location: String) async throws {
        try await check(location) { try await $0.keepsBindValuesOutOfErrors() }
    }
}
