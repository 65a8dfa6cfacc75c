import Batching
import Foundation
import SQLBackendTestSupport
import SQLCore
import Testing

@Suite(.serialized) struct KeyedIntegrationTests {
    func createTokens(_ table: String, count: Int, on database: any SQLDatabase) async throws {
        try await database.execute(
            "CREATE TABLE \(identifier: table) (symbol TEXT PRIMARY KEY, status TEXT NOT NULL, hits BIGINT NOT NULL CHECK (hits < 3))")
        let upsert = Upsert(table: table, columns: ["symbol", "status", "hits"], conflictColumns: ["symbol"])
        _ = try await upsert.run((1...count).map { [.text("T\($0)"), .text("active"), .int64(0)] }, on: database)
    }

    func statuses(_ table: String, _ database: any SQLDatabase) async throws -> [String: String] {
        var result: [String: String] = [:]
        for row in try await database.query("SELECT symbol, status FROM \(identifier: table)") {
            result[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        return result
    }

    @Test(arguments: Backend.available) func updatesExactlyTheRowsOfTheKeys(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            try await createTokens(table, count: 2_500, on: database)
            // 1,500 distinct keys (with repeats and one unknown key) in chunks of 1,000.
            let delisted = (1...1_500).map { "T\($0)" } + ["T7", "T8", "NOPE"]
            var delist = KeyedUpdate(table: table, keyColumn: "symbol", values: ["status": .text("delisted")])
            delist.condition = "status <> 'delisted'"
            #expect(try await delist.run(keys: delisted, on: database) == 1_500)
            let after = try await statuses(table, database)
            #expect(after.count == 2_500)
            #expect(after.filter { $0.value == "delisted" }.count == 1_500)
            #expect(after["T1500"] == "delisted" && after["T1501"] == "active")
            #expect(try await delist.run(keys: ["T1", "T2"], on: database) == 0, "the condition skips rows already delisted")
            #expect(try await delist.run(keys: [String](), on: database) == 0)
        }
    }

    @Test(arguments: Backend.available) func aFailingChunkUndoesTheWholeUpdate(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            try await createTokens(table, count: 30, on: database)
            _ = try await database.execute("UPDATE \(identifier: table) SET hits = 2 WHERE symbol = 'T30'")
            var bump = KeyedUpdate(table: table, keyColumn: "symbol", values: [:])
            bump.expressions = ["hits": "hits + 1"]
            bump.chunkSize = 10
            // Sorted as text, T30 is in the last chunk; its CHECK fails.
            let keys = (1...30).map { "T\($0)" }
            await #expect(throws: (any Error).self) { try await bump.run(keys: keys, on: database) }
            let untouched = try await database.query("SELECT count(*) FROM \(identifier: table) WHERE hits = 0")
            #expect(try untouched[0].decode(Int64.self, at: 0) == 29, "the whole update rolled back")
            await #expect(throws: (any Error).self) { try await bump.run(keys: keys, on: database, transaction: .perChunk) }
            let bumped = try await database.query("SELECT count(*) FROM \(identifier: table) WHERE hits = 1")
            #expect(try bumped[0].decode(Int64.self, at: 0) == 20, "per chunk, the two chunks before the failing one stay")
        }
    }

    @Test(arguments: Backend.available) func deletesExactlyTheRowsOfTheKeys(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            try await createTokens(table, count: 1_200, on: database)
            var delete = KeyedDelete(table: table, keyColumn: "symbol")
            delete.chunkSize = 500
            let removed = try await delete.run(keys: (1...1_100).map { "T\($0)" }, on: database)
            #expect(removed == 1_100)
            let left = try await statuses(table, database)
            #expect(Set(left.keys) == Set((1_101...1_200).map { "T\($0)" }))
        }
    }
}
