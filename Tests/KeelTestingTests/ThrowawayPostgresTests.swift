import Foundation
import KeelTesting
import PostgresPool
import Testing

@Suite struct ThrowawayPostgresTests {
    @Test(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
    func aThrowawayServerStartsServesAndIsGoneAfterStop() async throws {
        let server = try await ThrowawayPostgres.start()
        #expect(FileManager.default.fileExists(atPath: server.directory + "/data/PG_VERSION"))
        #expect(!server.redactedURL.contains(server.url.split(separator: ":")[2].split(separator: "@")[0]))
        do {
            let connection = try await PostgresConnection.connect(
                configuration: PostgresConfiguration(connectionString: server.url))
            let rows = try await connection.query("SELECT current_setting('port') AS port, current_setting('fsync') AS fsync")
            #expect(try rows[0].decode(String.self, "port") == String(server.port))
            #expect(try rows[0].decode(String.self, "fsync") == "off")
            connection.close()
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
        #expect(!FileManager.default.fileExists(atPath: server.directory))
        await #expect(throws: (any Error).self) {
            try await PostgresConnection.connect(configuration: PostgresConfiguration(connectionString: server.url), timeout: .seconds(2))
        }
        await server.stop()   // a second stop does nothing
    }
}
