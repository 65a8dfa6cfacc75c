import Migrations
import SQLitePool
import Testing

/// The Migrations DocC article's example, run as written.
@Suite struct MigrationsDocumentationExampleTests {
    @Test func articleExampleWorksAsWritten() async throws {
        let migrator = try Migrator([
            Migration(version: 1, name: "create tokens", statements: [
                "CREATE TABLE tokens (symbol TEXT PRIMARY KEY, price REAL NOT NULL)",
            ]),
            Migration(version: 2, name: "index prices") { dialect in
                dialect == .postgres
                    ? ["CREATE INDEX tokens_price ON tokens USING btree (price)"]
                    : ["CREATE INDEX tokens_price ON tokens (price)"]
            },
        ])
        let database = try await SQLiteDatabase(configuration: .inMemory())
        let report = try await migrator.migrate(database)
        #expect("\(report)" == "applied 2 steps (1, 2), 0 already applied")
        #expect("\(try await migrator.migrate(database))" == "applied 0 steps, 2 already applied")
        #expect(try await migrator.applied(on: database).map(\.name) == ["create tokens", "index prices"])
        await database.close()
    }
}
