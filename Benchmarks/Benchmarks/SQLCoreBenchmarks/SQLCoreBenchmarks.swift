// Suite `sqlcore`: the cost of SQLStatement's safety (every value a bind, identifiers quoted)
// against the hand-written code it replaces, on the statement Batching builds most: a
// 100-row, 5-column INSERT rendered for PostgreSQL.
//
// Benchmark names are `<workload>/<implementation>`; scripts/bench.sh compares `keel` with
// every other implementation of the same workload.

import Benchmark
import Foundation
import SQLCore

struct TokenRow {
    let id: Int
    let symbol: String
    let price: Double
    let active: Bool
    let listedAt: Date
}

let rows: [TokenRow] = (0..<100).map { index in
    TokenRow(
        id: index, symbol: "TOKEN\(index)-USDT-SWAP", price: Double(index) * 1.25, active: index % 3 != 0,
        listedAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(index)))
}
let columns = ["id", "symbol", "price", "active", "listed_at"]

/// Keel: string interpolation, identifiers quoted, values as binds, rendered for PostgreSQL.
func keelInsert(_ rows: [TokenRow]) throws -> SQLRenderedStatement {
    var statement: SQLStatement = "INSERT INTO \(identifier: "tokens") (\(identifiers: columns)) VALUES "
    statement.reserveCapacity(textBytes: rows.count * 20, binds: rows.count * columns.count)
    for (index, row) in rows.enumerated() {
        if index > 0 { statement.append(unsafeRaw: ", ") }
        statement.append("(\(row.id), \(row.symbol), \(row.price), \(row.active), \(row.listedAt))")
    }
    return try statement.render(for: .postgres)
}

/// The peer: what a developer writes by hand without a statement type: the SQL text with
/// `$n` placeholders concatenated directly, and a bind array. The same output, no checks.
func handwrittenInsert(_ rows: [TokenRow]) -> SQLRenderedStatement {
    var sql = #"INSERT INTO "tokens" ("id", "symbol", "price", "active", "listed_at") VALUES "#
    sql.reserveCapacity(sql.utf8.count + rows.count * 34)
    var binds: [SQLValue] = []
    binds.reserveCapacity(rows.count * 5)
    var position = 0
    for (index, row) in rows.enumerated() {
        if index > 0 { sql += ", " }
        sql += "($\(position + 1), $\(position + 2), $\(position + 3), $\(position + 4), $\(position + 5))"
        position += 5
        binds.append(.int64(Int64(row.id)))
        binds.append(.text(row.symbol))
        binds.append(.double(row.price))
        binds.append(.bool(row.active))
        binds.append(.date(row.listedAt))
    }
    return SQLRenderedStatement(sql: sql, binds: binds)
}

let benchmarks: @Sendable () -> Void = {
    // The two must produce the same statement, or the comparison means nothing.
    let expected = handwrittenInsert(rows)
    guard let rendered = try? keelInsert(rows), rendered == expected else {
        fatalError("keelInsert and handwrittenInsert disagree: the benchmark would compare different work")
    }

    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .mallocCountTotal, .wallClock],
        warmupIterations: 100,
        scalingFactor: .one,
        maxDuration: .seconds(2),
        maxIterations: 20_000
    )

    Benchmark("insert-100x5/keel", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try keelInsert(rows))
        }
    }

    Benchmark("insert-100x5/handwritten", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(handwrittenInsert(rows))
        }
    }
}
