import Logging
import Pooling
import Testing

/// The Pooling DocC article's example, run as written.
@Suite struct PoolingDocumentationExampleTests {
    final class EchoConnection: Sendable {
        func echo(_ text: String) async -> String { text }
    }

    struct EchoSource: ConnectionSource {
        func makeConnection(timeout: Duration) async throws -> EchoConnection { EchoConnection() }
        func close(_ connection: EchoConnection) async {}
    }

    @Test func articleExampleWorksAsWritten() async throws {
        var configuration = try PoolConfiguration(environment: ["DB_MAX_CONNECTIONS": "20"])
        configuration.maxOverflow = 80
        let pool = try ConnectionPool(source: EchoSource(), configuration: configuration)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            let answer = try await pool.withConnection { connection in
                await connection.echo("hello")
            }
            #expect(answer == "hello")
            #expect(pool.statistics.open == 1)
            await pool.shutdown()
            try await group.waitForAll()
        }
    }
}
