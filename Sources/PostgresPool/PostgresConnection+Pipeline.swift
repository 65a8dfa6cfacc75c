import CLibPQ
public import SQLCore

/// Batches: many statements in one round trip, in libpq's pipeline mode.
extension PostgresConnection {
    /// Sends all `statements` in one round trip (libpq pipeline mode) and returns the rows each
    /// affected. They run in one implicit transaction: when one fails, none takes effect.
    ///
    /// #### Errors
    /// The first statement's ``PostgresError``; `CancellationError` when cancelled.
    public func executeBatch(_ statements: [SQLStatement]) async throws -> [Int] {
        try await pipeline(statements).map(\.affected)
    }

    /// Sends all `statements` in one round trip (libpq pipeline mode) and returns each one's rows.
    /// Outside a transaction they run in one implicit transaction; when one fails, none takes effect.
    ///
    /// #### Errors
    /// As ``executeBatch(_:)``.
    public func queryPipelined(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        try await pipeline(statements).map(\.rows)
    }

    private func pipeline(_ batch: [SQLStatement]) async throws -> [(rows: [SQLRow], affected: Int)] {
        let rendered = try batch.map { try $0.render(for: dialect) }
        let binds = try rendered.map { try PostgresBinds($0.binds) }
        return try await observer.observe(operation: "BATCH", batchSize: batch.count, sql: { rendered.map(\.sql).joined(separator: ";\n") }) {
            try await pipeline(rendered, binds: binds)
        }
    }

    private func pipeline(
        _ rendered: [SQLRenderedStatement], binds: [PostgresBinds]
    ) async throws -> [(rows: [SQLRow], affected: Int)] {
        try await exclusively {
            try await roundTrip(cancellable: true, timeout: queryTimeout) {
                try checkAliveBeforeSend()
                // Statements are prepared first (once per SQL text and connection, outside the
                // pipeline), so a batch of chunks sharing one SQL text is parsed and planned once.
                // More distinct texts than the cache holds would evict each other: those run unnamed.
                var prepared: [PostgresStatementCache.Prepared?] = Array(repeating: nil, count: rendered.count)
                let distinct = Set(zip(rendered, binds).map { PostgresStatementCache.Key(sql: $0.sql, types: $1.types) })
                if distinct.count <= statements.capacity {
                    for index in rendered.indices {
                        prepared[index] = try await prepare(rendered[index], binds: binds[index])
                    }
                }
                guard PQenterPipelineMode(handle) == 1 else { throw connectionError() }
                defer { PQexitPipelineMode(handle) }
                for index in rendered.indices {
                    try sendQuery(rendered[index].sql, binds: binds[index], prepared: prepared[index])
                }
                try sendMessage { PQpipelineSync(handle) }
                try await flush()
                var outcomes: [(rows: [SQLRow], affected: Int)] = []
                outcomes.reserveCapacity(rendered.count)
                var failure: PostgresError?
                for statement in rendered {
                    var reader = PostgresResultReader(binds: statement.binds)
                    try await readResults(into: &reader)
                    failure = failure ?? reader.failure
                    outcomes.append((reader.rows, reader.affected))
                }
                // The sync's own result, then the NULL that ends it.
                while let result = try await nextResult() {
                    let status = PQresultStatus(result)
                    PQclear(result)
                    if status == PGRES_PIPELINE_SYNC { break }
                }
                if let failure { throw failure }
                return outcomes
            }
        }
    }
}
