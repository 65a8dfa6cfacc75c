import KeelCore
import KeelTesting
@testable import PostgresPool
import Testing

extension PostgresServerTests {
    /// A connection waits on the reactor it is given, whatever its backend.
    @Suite(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
    struct PostgresReactorTests {
        /// One reactor per backend for the whole run: a reactor's thread lives as long as the process.
        static let reactors: [SocketReactor.Backend: SocketReactor] = Dictionary(
            uniqueKeysWithValues: SocketReactor.Backend.available.map { ($0, SocketReactor(backend: $0)) })

        @Test(arguments: SocketReactor.Backend.available)
        func aConnectionWaitsOnTheReactorItIsGiven(backend: SocketReactor.Backend) async throws {
            let reactor = try #require(Self.reactors[backend])
            let configuration = try PostgresTestSupport.configuration()
            let connection = try await PostgresConnection.connect(
                configuration: configuration, timeout: .seconds(30),
                observer: PostgresConnection.observer(for: configuration, poolName: "reactor-test", metricsFactory: nil),
                reactor: reactor)
            defer { connection.close() }
            let resumedBefore = reactor.resumedWaits
            for index in 0..<20 {
                let rows = try await connection.query("SELECT \(index)::int8 AS v, pg_sleep(0.001)")
                #expect(rows[0]["v"] == .int64(Int64(index)))
            }
            // Each answer came after a wait (the server sleeps first), on this reactor's thread.
            #expect(reactor.resumedWaits - resumedBefore >= 20)
            #expect(connection.reactorWakeups >= 20)
        }
    }
}
