import Batching
import Foundation
import SQLCore
import Testing

@Suite struct UpsertPlanTests {
    let sqlite = SQLDialect.sqlite(versionNumber: 3_040_001, maxBindParameters: 32_766)

    func rows(_ count: Int, from start: Int = 1) -> [[SQLValue]] {
        (start..<start + count).map { [.int64(Int64($0)), .text("name-\($0)"), .double(Double($0))] }
    }

    var upsert: Upsert { Upsert(table: "tokens", columns: ["id", "name", "price"], conflictColumns: ["id"]) }

    // MARK: Exact SQL

    @Test func defaultUpdateSQLForBothDialects() throws {
        let postgres = try upsert.plan(for: rows(2), dialect: .postgres).chunks[0].statement.render(for: .postgres)
        #expect(
            postgres.sql
                == #"WITH keel_written AS (INSERT INTO "tokens" ("id", "name", "price") VALUES ($1, $2, $3), ($4, $5, $6) ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "price" = EXCLUDED."price" WHERE (("tokens"."name", "tokens"."price") IS DISTINCT FROM (EXCLUDED."name", EXCLUDED."price")) RETURNING (xmax = 0) AS "keel_inserted") SELECT count(*) FILTER (WHERE "keel_inserted"), count(*) FROM keel_written"#)
        #expect(postgres.binds == rows(2).flatMap { $0 })
        let lite = try upsert.plan(for: rows(2), dialect: sqlite).chunks[0].statement.render(for: sqlite)
        #expect(
            lite.sql
                == #"INSERT INTO "tokens" ("id", "name", "price") VALUES (?, ?, ?), (?, ?, ?) ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "price" = EXCLUDED."price" WHERE ("tokens"."name" IS NOT EXCLUDED."name" OR "tokens"."price" IS NOT EXCLUDED."price")"#)
    }

    @Test func doNothingAndUpdateOptions() throws {
        var plain = upsert
        plain.action = .doNothing
        #expect(
            try plain.plan(for: rows(1), dialect: sqlite).chunks[0].statement.render(for: sqlite).sql
                == #"INSERT INTO "tokens" ("id", "name", "price") VALUES (?, ?, ?) ON CONFLICT ("id") DO NOTHING"#)

        var some = upsert
        some.action = .update(["price"])
        some.skipsUnchangedRows = false
        some.updateCondition = "tokens.price < excluded.price"
        some.returning = ["id"]
        #expect(
            try some.plan(for: rows(1), dialect: .postgres).chunks[0].statement.render(for: .postgres).sql
                == #"INSERT INTO "tokens" ("id", "name", "price") VALUES ($1, $2, $3) ON CONFLICT ("id") DO UPDATE SET "price" = EXCLUDED."price" WHERE (tokens.price < excluded.price) RETURNING "id", (xmax = 0) AS "keel_inserted""#)

        var expressions = upsert
        expressions.action = .updateExpressions(["price": "tokens.price + EXCLUDED.price", "name": "EXCLUDED.name"])
        #expect(
            try expressions.plan(for: rows(1), dialect: sqlite).chunks[0].statement.render(for: sqlite).sql
                == #"INSERT INTO "tokens" ("id", "name", "price") VALUES (?, ?, ?) ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED.name, "price" = tokens.price + EXCLUDED.price"#)

        var partial = Upsert(
            table: "tokens", columns: ["id", "name", "price"], conflictTarget: .columns(["name"], predicate: "active"))
        partial.action = .update(["price"])
        partial.skipsUnchangedRows = false
        #expect(
            try partial.plan(for: rows(1), dialect: sqlite).chunks[0].statement.render(for: sqlite).sql
                == #"INSERT INTO "tokens" ("id", "name", "price") VALUES (?, ?, ?) ON CONFLICT ("name") WHERE active DO UPDATE SET "price" = EXCLUDED."price""#)

        var constraint = Upsert(
            table: "tokens", columns: ["id", "name", "price"], conflictTarget: .constraint("tokens_pkey", columns: ["id"]))
        constraint.action = .doNothing
        #expect(
            try constraint.plan(for: rows(1), dialect: .postgres).chunks[0].statement.render(for: .postgres).sql
                == #"WITH keel_written AS (INSERT INTO "tokens" ("id", "name", "price") VALUES ($1, $2, $3) ON CONFLICT ON CONSTRAINT "tokens_pkey" DO NOTHING RETURNING (xmax = 0) AS "keel_inserted") SELECT count(*) FILTER (WHERE "keel_inserted"), count(*) FROM keel_written"#)
    }

    // MARK: Chunking

    @Test(arguments: [(99, [99]), (100, [100]), (101, [100, 1]), (250, [100, 100, 50])])
    func chunkBoundaries(_ count: Int, _ sizes: [Int]) throws {
        let plan = try upsert.plan(for: rows(count), dialect: sqlite)
        #expect(plan.chunks.map(\.rowIndices.count) == sizes)
        #expect(Set(plan.chunks.map { try! $0.statement.render(for: sqlite).sql }.dropLast(count % 100 == 0 ? 0 : 1)).count <= 1,
                "full chunks share one SQL text")
    }

    @Test func chunksNeverPassTheBindLimit() throws {
        let small = SQLDialect.sqlite(versionNumber: 3_040_001, maxBindParameters: 10)
        let plan = try upsert.plan(for: rows(10), dialect: small)
        #expect(plan.chunks.map(\.rowIndices.count) == [3, 3, 3, 1], "3 columns × 3 rows = 9 binds ≤ 10")
        for chunk in plan.chunks { #expect(chunk.statement.bindCount <= 10) }
    }

    // MARK: Duplicates and order

    @Test func duplicateKeysCollapseLastWins() throws {
        let input: [[SQLValue]] = [
            [.int64(2), .text("first"), .double(1)], [.int64(1), .text("a"), .double(1)], [.int64(2), .text("last"), .double(2)],
        ]
        let plan = try upsert.plan(for: input, dialect: sqlite)
        #expect(plan.duplicatesRemoved == 1)
        #expect(plan.chunks[0].rowIndices == [1, 2], "sorted by key: 1 then 2 (the last 2)")
        #expect(plan.chunks[0].statement.binds == [.int64(1), .text("a"), .double(1), .int64(2), .text("last"), .double(2)])
    }

    @Test func sortingIsOptional() throws {
        var unsorted = upsert
        unsorted.sortsByKey = false
        let plan = try unsorted.plan(for: [rows(1, from: 3)[0], rows(1, from: 1)[0]], dialect: sqlite)
        #expect(plan.chunks[0].rowIndices == [0, 1])
        let sorted = try upsert.plan(for: [rows(1, from: 3)[0], rows(1, from: 1)[0]], dialect: sqlite)
        #expect(sorted.chunks[0].rowIndices == [1, 0])
    }

    // MARK: Invalid input

    @Test func invalidInputThrowsNamedErrors() {
        func code(_ upsert: Upsert, _ rows: [[SQLValue]], _ dialect: SQLDialect = .postgres) -> BatchError.Code? {
            do {
                _ = try upsert.plan(for: rows, dialect: dialect)
                return nil
            } catch {
                return error.code
            }
        }
        #expect(code(upsert, [[.int64(1), .text("a")]]) == .wrongValueCount)
        #expect(code(Upsert(table: "t", columns: [], conflictColumns: ["id"]), []) == .emptyColumns)
        #expect(code(Upsert(table: "t", columns: ["id", "id"], conflictColumns: ["id"]), []) == .duplicateColumn)
        #expect(code(Upsert(table: "t", columns: ["id"], conflictColumns: ["other"]), []) == .columnNotInColumns)
        #expect(code(Upsert(table: "t", columns: ["id"], conflictColumns: []), []) == .emptyConflictTarget)
        #expect(code(Upsert(table: "t\0x", columns: ["id"], conflictColumns: ["id"]), []) == .invalidIdentifier)
        #expect(code(Upsert(table: "t", columns: ["id", "a\0"], conflictColumns: ["id"]), []) == .invalidIdentifier)
        #expect(code(upsert, [[.null, .text("a"), .double(1)]]) == .nullKey)
        var update = upsert
        update.action = .update(["missing"])
        #expect(code(update, []) == .columnNotInColumns)
        let constraint = Upsert(table: "t", columns: ["id"], conflictTarget: .constraint("pk", columns: ["id"]))
        #expect(code(constraint, [], sqlite) == .unsupported)
        var zero = upsert
        zero.chunkSize = 0
        #expect(code(zero, []) == .invalidSetting)
        var nullable = upsert
        nullable.allowsNullKeys = true
        #expect(code(nullable, [[.null, .text("a"), .double(1)], [.null, .text("b"), .double(1)]]) == nil)
    }

    @Test func nullKeyErrorNamesRowAndColumnNotValue() throws {
        do {
            _ = try upsert.plan(for: [rows(1)[0], [.null, .text("secret-name"), .double(1)]], dialect: sqlite)
            Issue.record("a NULL key must be refused")
        } catch {
            #expect(error.message.contains("row 1"))
            #expect(error.message.contains("id"))
            #expect(!error.message.contains("secret-name"))
        }
    }

    // MARK: Fast path

    @Test func largePostgresBatchesAreStagedThroughATemporaryTable() throws {
        var batch = rows(25_000)
        batch[7][2] = .int64(7)  // a column of mixed kinds: the table's column types decide
        let plan = try upsert.plan(for: batch, dialect: .postgres)
        #expect(plan.chunks.map(\.rowIndices.count) == [10_000, 10_000, 5_000])
        #expect(plan.chunks.map(\.rowIndices).joined().elementsEqual(batch.indices))
        let staging = try #require(plan.chunks[0].staging)
        #expect(plan.chunks.allSatisfy { $0.staging == staging && $0.statement == plan.chunks[0].statement })
        #expect(staging.table == "keel_upsert_stage")
        #expect(
            try staging.create.render(for: .postgres).sql
                == #"CREATE TEMPORARY TABLE "keel_upsert_stage" ON COMMIT DROP AS SELECT "id", "name", "price" FROM "tokens" WITH NO DATA"#)
        #expect(try staging.drop.render(for: .postgres).sql == #"DROP TABLE "keel_upsert_stage""#)
        let rendered = try plan.chunks[0].statement.render(for: .postgres)
        #expect(
            rendered.sql
                == #"WITH keel_written AS (INSERT INTO "tokens" ("id", "name", "price") SELECT "id", "name", "price" FROM "keel_upsert_stage" ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "price" = EXCLUDED."price" WHERE (("tokens"."name", "tokens"."price") IS DISTINCT FROM (EXCLUDED."name", EXCLUDED."price")) RETURNING (xmax = 0) AS "keel_inserted") SELECT count(*) FILTER (WHERE "keel_inserted"), count(*) FROM keel_written"#)
        #expect(rendered.binds.isEmpty)
        // Below the threshold, on SQLite, or switched off: the default chunks.
        let small = try upsert.plan(for: rows(999), dialect: .postgres)
        #expect(small.chunks.allSatisfy { !$0.usesFastPath })
        let onSQLite = try upsert.plan(for: rows(2_500), dialect: sqlite)
        #expect(onSQLite.chunks.allSatisfy { !$0.usesFastPath })
        var off = upsert
        off.usesFastPath = false
        #expect(try off.plan(for: batch, dialect: .postgres).chunks.allSatisfy { !$0.usesFastPath })
        // A fast-path chunk size below 1 is refused, whatever the dialect.
        var zero = upsert
        zero.fastPathChunkSize = 0
        let error = #expect(throws: BatchError.self) { try zero.plan(for: rows(3), dialect: sqlite) }
        #expect(error?.code == .invalidSetting)
    }

    // MARK: Property: identifiers never change the statement's structure

    @Test func randomIdentifiersStayQuoted() throws {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["\"", "'", ";", " ", "select", "DROP TABLE x", "--", "é", "✓", "$1", "?", ")", "("]
        for _ in 0..<500 {
            let name = (0..<Int.random(in: 1...5, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let upsert = Upsert(table: name, columns: ["id", name + "x"], conflictColumns: ["id"])
            let rendered = try upsert.plan(for: [[.int64(1), .text("v")]], dialect: sqlite).chunks[0].statement.render(for: sqlite)
            // Removing the quoted identifiers leaves the fixed skeleton.
            let skeleton = rendered.sql
                .replacingOccurrences(of: Upsert.quotedForTests(name + "x"), with: "C")
                .replacingOccurrences(of: Upsert.quotedForTests(name), with: "T")
            #expect(
                skeleton
                    == #"INSERT INTO T ("id", C) VALUES (?, ?) ON CONFLICT ("id") DO UPDATE SET C = EXCLUDED.C WHERE (T.C IS NOT EXCLUDED.C)"#,
                "\(name)")
            #expect(rendered.binds == [.int64(1), .text("v")])
        }
    }
}

extension Upsert {
    /// The ANSI-quoted form the statements use.
    static func quotedForTests(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
