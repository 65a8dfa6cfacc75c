import Batching
import KeelTesting
import SQLitePool
import Testing

/// The Batching DocC article's example, run as written.
@Suite struct BatchingDocumentationExampleTests {
    @Test func articleExampleWorksAsWritten() async throws {
        let path = try TestDatabaseEnvironment.temporarySQLitePath()
        let database = try await SQLiteDatabase(path: path)
        try await database.execute("CREATE TABLE prices (symbol TEXT PRIMARY KEY, price REAL NOT NULL, seen INTEGER NOT NULL)")
        var upsert = Upsert(table: "prices", columns: ["symbol", "price", "seen"], conflictColumns: ["symbol"])
        upsert.updateCondition = "prices.seen < excluded.seen"  // never overwrite a newer price
        let batch: [(String, Double, Int)] = [("BTC", 97_000, 2), ("ETH", 3_400, 2), ("BTC", 97_100, 3)]
        let report = try await upsert.run(batch, on: database) { symbol, price, seen in
            [.text(symbol), .double(price), .int64(Int64(seen))]
        }
        #expect(report.rowsWritten == 2)
        #expect(report.duplicatesRemoved == 1)
        let price = try await database.query("SELECT price FROM prices WHERE symbol = \("BTC")")[0].decode(Double.self, "price")
        #expect(price == 97_100)
        let zeroed = try await KeyedUpdate(table: "prices", keyColumn: "symbol", values: ["price": .double(0)])
            .run(keys: ["ETH", "DOGE"], on: database)
        #expect(zeroed == 1)
        await database.close()
    }
}
