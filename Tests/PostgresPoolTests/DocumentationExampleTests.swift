import Pooling
import PostgresPool
import KeelTesting
import Testing

/// The PostgresPool DocC article's example, run as written (with a pool of one connection, so
/// the `TEMP` table is seen by every statement).
@Suite(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
struct PostgresPoolDocumentationExampleTests {
    @Test func articleExampleWorksAsWritten() async throws {
        let url = try TestDatabaseEnvironment.requirePostgresURL()
        var pool = PoolConfiguration()
        pool.maxConnections = 1
        let configuration = try PostgresConfiguration(environment: ["DATABASE_URL": url])
        let database = try PostgresDatabase(configuration: configuration, pool: pool)
        var value = ""
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            try await database.execute("CREATE TEMP TABLE IF NOT EXISTS kv (k bigint PRIMARY KEY, v text)")
            try await database.transaction { db in
                try await db.execute("INSERT INTO kv VALUES (\(1), \("one")) ON CONFLICT (k) DO NOTHING")
            }
            let rows = try await database.query("SELECT v FROM kv WHERE k = \(1)")
            value = try rows[0].decode(String.self, "v")
            await database.shutdown()
            try await group.waitForAll()
        }
        #expect(value == "one")
    }

    @Test func multiplexingExampleWorksAsWritten() async throws {
        let url = try TestDatabaseEnvironment.requirePostgresURL()
        var configuration = try PostgresConfiguration(connectionString: url)
        configuration.multiplexedConnections = 2
        let database = try PostgresDatabase(configuration: configuration)
        var total = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            let sums = try await withThrowingTaskGroup(of: Int.self) { tasks in
                for task in 0..<16 {
                    tasks.addTask {
                        var sum = 0
                        for index in 0..<100 {
                            let rows = try await database.query("SELECT \(task * 100 + index)::int8 AS n")
                            sum += try rows[0].decode(Int.self, "n")
                        }
                        return sum
                    }
                }
                var total = 0
                for try await sum in tasks { total += sum }
                return total
            }
            total = sums
            await database.shutdown()
            try await group.waitForAll()
        }
        #expect(total == (0..<1_600).reduce(0, +))
    }

    @Test(.enabled(if: TestDatabaseEnvironment.runsClusterTests, TestDatabaseEnvironment.clusterSkipReason))
    func clusterExampleWorksAsWritten() async throws {
        let clusterURL = try TestDatabaseEnvironment.require("TEST_CLUSTER_URL")
        var body = ""
        let cluster = try PostgresCluster(configuration: PostgresConfiguration(connectionString: clusterURL))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await cluster.run() }
            try await cluster.write { try await $0.execute("CREATE TABLE IF NOT EXISTS notes (id int PRIMARY KEY, body text)") }
            try await cluster.transaction { db in
                try await db.execute("INSERT INTO notes VALUES (\(1), \("hello")) ON CONFLICT (id) DO UPDATE SET body = excluded.body")
            }
            let rows = try await cluster.read { try await $0.query("SELECT body FROM notes WHERE id = \(1)") }
            body = try rows[0].decode(String.self, "body")
            await cluster.shutdown()
            try await group.waitForAll()
        }
        #expect(body == "hello")
    }
}
