import CLibPQ
public import SQLCore

/// Streaming a large result row by row, in libpq's single-row mode.
extension PostgresConnection {
    /// Calls `body` with each row as it arrives (libpq's single-row mode), for results too large
    /// to hold in memory. When `body` throws, the statement is cancelled and the error rethrown.
    ///
    /// #### Errors
    /// As ``execute(_:)``, and whatever `body` throws.
    public func forEachRow(_ statement: SQLStatement, _ body: (SQLRow) async throws -> Void) async throws {
        let rendered = try statement.render(for: dialect)
        try await observer.observe(sql: { rendered.sql }) { try await forEachRow(rendered, body) }
    }

    private func forEachRow(_ rendered: SQLRenderedStatement, _ body: (SQLRow) async throws -> Void) async throws {
        try await exclusively {
            try await roundTrip(cancellable: true, timeout: queryTimeout) {
                let binds = try PostgresBinds(rendered.binds)
                try await send(rendered, binds: binds, singleRow: true)
                var columns: SQLColumns?
                var bodyFailure: (any Error)?
                var reader = PostgresResultReader(binds: rendered.binds)
                try await readResults(into: &reader) { result, status in
                    guard status == PGRES_SINGLE_TUPLE, bodyFailure == nil else { return nil }
                    let names = columns ?? PostgresResultReader.columns(of: result)
                    columns = names
                    let row = PostgresResultReader.withColumnFormats(of: result) {
                        PostgresResultReader.row(0, of: result, columns: names, formats: $0)
                    }
                    do {
                        try await body(row)
                    } catch {
                        bodyFailure = error
                        cancelRoundTripInProgress()
                    }
                    return nil
                }
                if let bodyFailure { throw bodyFailure }
                if let failure = reader.failure { throw failure }
            }
        }
    }
}
