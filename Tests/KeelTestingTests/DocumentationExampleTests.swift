import Cache
import KeelTesting
import PostgresPool
import Testing

/// The KeelTesting DocC article's examples, run as written.
@Suite struct KeelTestingDocumentationExampleTests {
    @Test func pricesExpireAfterAMinute() async throws {
        let clock = ManualClock()
        let prices = try Cache<String, Double, ManualClock>(
            configuration: CacheConfiguration(maximumCapacity: 100, timeToLive: .seconds(60)), clock: clock)
        prices.insert(97_000, for: "BTC")
        clock.advance(by: .seconds(59))
        #expect(prices.value(for: "BTC") == 97_000)
        clock.advance(by: .seconds(1))
        #expect(prices.value(for: "BTC") == nil)
    }

    @Test(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
    func theRepositoryKeepsTheContractOnARealServer() async throws {
        let server = try await ThrowawayPostgres.start()
        let connection = try await PostgresConnection.connect(
            configuration: PostgresConfiguration(connectionString: server.url))
        try await SQLDatabaseConformance(database: connection).runAll()
        connection.close()
        await server.stop()
    }
}
