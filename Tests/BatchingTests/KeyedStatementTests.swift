import Batching
import SQLCore
import Testing

struct KeyedStatementTests {
    let sqlite = SQLDialect.sqlite(versionNumber: 3_045_000, maxBindParameters: 10)

    @Test func postgresUpdatesWithOneArrayBindPerChunk() throws {
        var update = KeyedUpdate(table: "tokens", keyColumn: "symbol", values: ["status": .text("delisted"), "active": .bool(false)])
        update.expressions = ["delisted_at": "now()"]
        update.condition = "status <> 'delisted'"
        update.chunkSize = 2
        let statements = try update.statements(for: [.text("ETH"), .text("BTC"), .text("ETH"), .text("SOL")], dialect: .postgres)
        #expect(statements.count == 2)
        let first = try statements[0].render(for: .postgres)
        #expect(
            first.sql
                == #"UPDATE "tokens" SET "active" = $1, "delisted_at" = now(), "status" = $2 WHERE "symbol" = ANY($3::text[]) AND (status <> 'delisted')"#)
        #expect(first.binds == [.bool(false), .text("delisted"), .text(#"{"BTC","ETH"}"#)])
        let second = try statements[1].render(for: .postgres)
        #expect(second.sql == first.sql, "every chunk has the same SQL text")
        #expect(second.binds.last == .text(#"{"SOL"}"#))
    }

    @Test func sqliteDeletesInChunksUnderTheBindLimit() throws {
        var delete = KeyedDelete(table: "sessions", keyColumn: "id")
        delete.condition = "expires < \(Int64(100))"
        let keys = (1...20).reversed().map { SQLValue.int64(Int64($0)) }
        let statements = try delete.statements(for: keys, dialect: sqlite)
        // 10 binds allowed, 1 taken by the condition: 9 keys per statement.
        #expect(statements.map(\.bindCount) == [10, 10, 3])
        let first = try statements[0].render(for: sqlite)
        #expect(first.sql == #"DELETE FROM "sessions" WHERE "id" IN (?, ?, ?, ?, ?, ?, ?, ?, ?) AND (expires < ?)"#)
        #expect(first.binds.first == .int64(1), "keys are sorted")
    }

    @Test func postgresKeysOfMixedKindsUseAnInList() throws {
        let statements = try KeyedDelete(table: "t", keyColumn: "k").statements(for: [.int64(1), .text("a")], dialect: .postgres)
        #expect(try statements[0].render(for: .postgres).sql == #"DELETE FROM "t" WHERE "k" IN ($1, $2)"#)
    }

    @Test func noKeysMeansNoStatements() throws {
        #expect(try KeyedDelete(table: "t", keyColumn: "k").statements(for: [], dialect: .postgres).isEmpty)
    }

    @Test func badInputThrowsItsNamedError() {
        func code(_ body: () throws -> Void) -> BatchError.Code? {
            do {
                try body()
                return nil
            } catch {
                return (error as? BatchError)?.code
            }
        }
        #expect(code { _ = try KeyedDelete(table: "t", keyColumn: "k").statements(for: [.int64(1), .null], dialect: .postgres) } == .nullKey)
        #expect(code { _ = try KeyedDelete(table: "bad\0name", keyColumn: "k").statements(for: [], dialect: .postgres) } == .invalidIdentifier)
        #expect(code { _ = try KeyedDelete(table: "t", keyColumn: "").statements(for: [], dialect: .postgres) } == .invalidIdentifier)
        #expect(code { _ = try KeyedUpdate(table: "t", keyColumn: "k", values: [:]).statements(for: [], dialect: .postgres) } == .emptyColumns)
        var both = KeyedUpdate(table: "t", keyColumn: "k", values: ["a": .int64(1)])
        both.expressions = ["a": "2"]
        #expect(code { _ = try both.statements(for: [], dialect: .postgres) } == .duplicateColumn)
        var zero = KeyedDelete(table: "t", keyColumn: "k")
        zero.chunkSize = 0
        #expect(code { _ = try zero.statements(for: [.int64(1)], dialect: .postgres) } == .invalidSetting)
        var full = KeyedUpdate(table: "t", keyColumn: "k", values: Dictionary(uniqueKeysWithValues: (0..<10).map { ("c\($0)", SQLValue.int64(1)) }))
        full.chunkSize = 5
        #expect(code { _ = try full.statements(for: [.int64(1)], dialect: sqlite) } == .unsupported)
    }
}
