import KeelTesting
import SQLitePool
import Testing

/// The SQLitePool DocC article's example, run as written.
@Suite struct SQLitePoolDocumentationExampleTests {
    @Test func articleExampleWorksAsWritten() async throws {
        let path = try TestDatabaseEnvironment.temporarySQLitePath()
        let database = try await SQLiteDatabase(path: path)
        try await database.execute("CREATE TABLE IF NOT EXISTS tokens (symbol TEXT PRIMARY KEY, price REAL NOT NULL)")
        try await database.write { connection in
            for (symbol, price) in [("BTC", 97_000.0), ("ETH", 3_400.0), ("DOGE", 0.4)] {
                try connection.execute(
                    "INSERT INTO tokens (symbol, price) VALUES (\(symbol), \(price)) ON CONFLICT (symbol) DO UPDATE SET price = excluded.price")
            }
        }
        let rows = try await database.query("SELECT symbol FROM tokens WHERE price > \(1.0) ORDER BY symbol")
        let symbols = try rows.map { try $0.decode(String.self, "symbol") }
        #expect(symbols == ["BTC", "ETH"])
        await database.close()
    }

    /// The example of the SQLiteDatabase doc comment.
    @Test func typeExampleWorksAsWritten() async throws {
        let path = try TestDatabaseEnvironment.temporarySQLitePath(name: "tokens.sqlite")
        let database = try await SQLiteDatabase(path: path)
        try await database.execute("CREATE TABLE IF NOT EXISTS tokens (symbol TEXT PRIMARY KEY, price REAL)")
        try await database.write { connection in
            for (symbol, price) in [("BTC", 97_000.0), ("ETH", 3_400.0)] {
                try connection.execute("INSERT INTO tokens VALUES (\(symbol), \(price)) ON CONFLICT DO NOTHING")
            }
        }
        let rows = try await database.query("SELECT symbol FROM tokens WHERE price > \(1_000.0)")
        #expect(rows.count == 2)
        await database.close()
    }
}
