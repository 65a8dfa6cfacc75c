import CLibPQ
import KeelCore
import KeelTesting
import Testing

/// Proves the test harness: `scripts/test.sh` started a PostgreSQL that accepts the URL it exported.
@Suite struct PostgresHarnessTests {
    @Test(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
    func connectsAndSelectsOne() async throws {
        let url = try TestDatabaseEnvironment.requirePostgresURL()
        // libpq's blocking calls run on a thread of their own, never on the cooperative pool.
        let outcome: Result<String, HarnessError> = await BlockingThread.run(name: "keel-harness-test") {
            guard let connection = PQconnectdb(url) else { return .failure(HarnessError("out of memory")) }
            defer { PQfinish(connection) }
            guard PQstatus(connection) == CONNECTION_OK else {
                return .failure(HarnessError(String(cString: PQerrorMessage(connection))))
            }
            guard let result = PQexec(connection, "SELECT 1") else { return .failure(HarnessError("no result")) }
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_TUPLES_OK, PQntuples(result) == 1 else {
                return .failure(HarnessError(String(cString: PQresultErrorMessage(result))))
            }
            return .success(String(cString: PQgetvalue(result, 0, 0)))
        }
        #expect(try outcome.get() == "1")
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
