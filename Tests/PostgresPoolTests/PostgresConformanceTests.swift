import PostgresPool
import KeelTesting
import Testing

extension PostgresServerTests {
    @Suite struct PostgresConformanceTests {
        @Test(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
        func aSingleConnectionPassesTheConformanceSuite() async throws {
            let configuration = try PostgresConfiguration(connectionString: TestDatabaseEnvironment.requirePostgresURL())
            let connection = try await PostgresConnection.connect(configuration: configuration)
            defer { connection.close() }
            try await SQLDatabaseConformance(database: connection).runAll()
        }
    }
}
