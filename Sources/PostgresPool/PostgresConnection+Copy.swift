import CLibPQ
public import SQLCore

/// Bulk loads with `COPY … FROM STDIN`.
extension PostgresConnection {
    /// Loads rows with `COPY table (columns) FROM STDIN` and returns how many were copied.
    ///
    /// Values are streamed in COPY's text format as they are read from `rows`; each row must have
    /// one value per column. The fastest way to load many rows.
    ///
    /// #### Errors
    /// ``PostgresError`` (nothing is loaded then); `CancellationError` when cancelled (the copy is
    /// aborted, nothing is loaded).
    public func copy(
        into table: String, columns: [String], rows: some Sequence<[SQLValue]>
    ) async throws -> Int {
        let sql = try "COPY \(dialect.quoteIdentifier(table)) (\(columns.map { try dialect.quoteIdentifier($0) }.joined(separator: ", "))) FROM STDIN"
        return try await observer.observe(operation: "COPY", sql: { sql }) { try await copy(sql, columnCount: columns.count, rows: rows) }
    }

    private func copy(_ sql: String, columnCount: Int, rows: some Sequence<[SQLValue]>) async throws -> Int {
        try await exclusively {
            try await roundTrip(cancellable: true, timeout: queryTimeout) {
                try checkAliveBeforeSend()
                try sendMessage { PQsendQueryParams(handle, sql, 0, nil, nil, nil, nil, 0) }
                try await flush()
                guard let started = try await nextResult() else { throw PostgresError.connection("COPY did not start") }
                let status = PQresultStatus(started)
                if status != PGRES_COPY_IN {
                    let error = status == PGRES_FATAL_ERROR ? PostgresResultReader.serverError(of: started, binds: []) : .connection("COPY did not start")
                    PQclear(started)
                    _ = try await readResults(binds: [])
                    throw error
                }
                PQclear(started)
                var encoder = PostgresCopyEncoder()
                do {
                    for row in rows {
                        guard row.count == columnCount else {
                            throw PostgresError.client("a COPY row has \(row.count) values for \(columnCount) columns")
                        }
                        try encoder.append(row)
                        if encoder.buffer.count >= 1 << 16 {
                            try await putCopyData(encoder.buffer)
                            encoder.buffer.removeAll(keepingCapacity: true)
                        }
                        if Task.isCancelled { throw CancellationError() }
                    }
                    if !encoder.buffer.isEmpty { try await putCopyData(encoder.buffer) }
                } catch let error as PostgresError where error.code == .connection {
                    throw error
                } catch {
                    try await endCopy(abort: "\(type(of: error))")
                    _ = try await readResults(binds: [])
                    throw error
                }
                try await endCopy(abort: nil)
                let outcome = try await readResults(binds: [])
                if let failure = outcome.failure { throw failure }
                return outcome.affected
            }
        }
    }

    func putCopyData(_ buffer: [UInt8]) async throws(PostgresError) {
        while true {
            let put = buffer.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
            }
            if put == 1 { return }
            guard put == 0 else { throw connectionError() }
            try await waitUntilWritable()
        }
    }

    func endCopy(abort: String?) async throws(PostgresError) {
        while true {
            let ended = PQputCopyEnd(handle, abort)
            if ended == 1 { break }
            guard ended == 0 else { throw connectionError() }
            try await waitUntilWritable()
        }
        try await flush()
    }
}
