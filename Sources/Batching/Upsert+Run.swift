import KeelCore
public import SQLCore
import Tracing

extension Upsert {
    /// Upserts `rows` on `database` and reports what happened.
    ///
    /// The rows are planned with ``plan(for:dialect:)`` (nothing is sent when that throws), then
    /// each chunk runs in order: committed on its own (``BatchTransaction/perChunk``) or all in one
    /// transaction (``BatchTransaction/whole``). The fast path is taken only on a database that
    /// loads rows in bulk (`SQLBulkLoading`: PostgreSQL's `COPY`); a fast-path chunk
    /// copies its rows into a temporary table and upserts them from there, in one transaction.
    ///
    /// #### Errors
    /// ``BatchError`` before anything is sent; ``BatchWriteError`` (with the report of what was
    /// committed) when a chunk fails under ``BatchFailurePolicy/stop``; under
    /// ``BatchFailurePolicy/continue`` failures are in the report and a `whole` transaction still
    /// commits the chunks that succeeded. `CancellationError` when the task is cancelled.
    public func run(
        _ rows: [[SQLValue]], on database: any SQLDatabase,
        transaction: BatchTransaction = .perChunk, failure: BatchFailurePolicy = .stop
    ) async throws -> UpsertReport {
        var upsert = self
        if !(database is any SQLBulkLoading) { upsert.usesFastPath = false }
        return try await upsert.run(plan: upsert.plan(for: rows, dialect: database.dialect), on: database, transaction: transaction, failure: failure)
    }

    /// Runs a plan made by ``plan(for:dialect:)`` on `database` and reports what happened: the
    /// plan's chunks carry their rows, so they are not given again.
    ///
    /// #### Errors
    /// ``BatchError`` with code ``BatchError/Code/unsupported`` before anything is sent when the
    /// plan has fast-path chunks and `database` does not load rows in bulk (`SQLBulkLoading`); then
    /// as ``run(_:on:transaction:failure:)``.
    public func run(
        plan: UpsertPlan, on database: any SQLDatabase,
        transaction: BatchTransaction = .perChunk, failure: BatchFailurePolicy = .stop
    ) async throws -> UpsertReport {
        if plan.chunks.contains(where: \.usesFastPath), !(database is any SQLBulkLoading) {
            throw BatchError(
                code: .unsupported,
                message: "the plan's fast-path chunks need a database that loads rows in bulk (SQLBulkLoading): plan with usesFastPath set to false")
        }
        var report = UpsertReport()
        report.rowsReceived = plan.rowsReceived
        report.duplicatesRemoved = plan.duplicatesRemoved
        report.chunks = plan.chunks.count
        report.usedFastPath = plan.chunks.first?.usesFastPath ?? false
        if plan.returnsInsertFlags || plan.returnsCounts {
            report.inserted = 0
            report.updated = 0
        }
        return try await withSpanIfTracing("keel.upsert") { [report] span in
            var report = report
            if span.isRecording {
                span.attributes["db.collection.name"] = table
                span.attributes["keel.upsert.rows"] = plan.rowsReceived
                span.attributes["keel.upsert.chunks"] = plan.chunks.count
                span.attributes["keel.upsert.fast_path"] = report.usedFastPath
            }
            let start = ContinuousClock.now
            switch transaction {
            case .perChunk:
                try await runChunks(plan, on: database, savepoints: false, failure: failure, span: span, into: &report)
            case .whole:
                report = try await database.transaction { [report] db in
                    var report = report
                    do {
                        try await runChunks(
                            plan, on: db, savepoints: failure == .continue, failure: failure, span: span, into: &report)
                    } catch let error as BatchWriteError {
                        // The transaction rolls back: nothing was committed.
                        throw BatchWriteError(report: Self.rolledBack(error.report), failure: error.failure)
                    }
                    return report
                }
            }
            report.duration = ContinuousClock.now - start
            if span.isRecording, !report.failures.isEmpty {
                span.attributes["keel.upsert.failed_chunks"] = report.failures.count
            }
            return report
        }
    }

    /// Upserts models, each turned into its row of values (one per column, in column order) by `values`.
    ///
    /// ```swift
    /// let report = try await upsert.run(tokens, on: database) { token in
    ///     [.text(token.symbol), .double(token.price), .date(token.seenAt)]
    /// }
    /// ```
    ///
    /// #### Errors
    /// What `values` throws, and as ``run(_:on:transaction:failure:)``.
    public func run<Model>(
        _ models: some Sequence<Model>, on database: any SQLDatabase,
        transaction: BatchTransaction = .perChunk, failure: BatchFailurePolicy = .stop,
        values: (Model) throws -> [SQLValue]
    ) async throws -> UpsertReport {
        try await run(models.map(values), on: database, transaction: transaction, failure: failure)
    }

    /// Runs the plan's chunks, adding a `chunk` event to `span` for each one that ran (its position,
    /// rows, and whether it failed).
    private func runChunks(
        _ plan: UpsertPlan, on database: any SQLDatabase, savepoints: Bool, failure: BatchFailurePolicy,
        span: any Span, into report: inout UpsertReport
    ) async throws {
        func chunkEvent(_ position: Int, failed: Bool) {
            guard span.isRecording else { return }
            span.addEvent(SpanEvent(
                name: "chunk",
                attributes: [
                    "keel.upsert.chunk": .int64(Int64(position)),
                    "keel.upsert.rows": .int64(Int64(plan.chunks[position].rowIndices.count)),
                    "keel.upsert.failed": .bool(failed),
                ]))
        }
        // Per-chunk batches on a database that pipelines send `chunksPerRoundTrip` chunks at once.
        // They commit together; when one fails, none is kept, and the window is run again one chunk
        // at a time so that exactly the chunks before the failing one are committed.
        let returnsRows = plan.returnsCounts || plan.returnsInsertFlags || !returning.isEmpty
        let staged = plan.chunks.first?.staging != nil
        let pipelined = savepoints || !returnsRows || staged ? nil : database as? any SQLPipelining
        let window = pipelined == nil ? 1 : max(1, chunksPerRoundTrip)
        var start = 0
        while start < plan.chunks.count {
            try Task.checkCancellation()
            let end = min(start + window, plan.chunks.count)
            if end - start > 1, let pipelined {
                let results: [[SQLRow]]?
                do {
                    results = try await pipelined.queryPipelined(plan.chunks[start..<end].map(\.statement))
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    results = nil  // nothing was kept: run the window again, one chunk at a time, below
                }
                if let results {
                    for (position, rows) in zip(start..<end, results) {
                        try record(plan.chunks[position], rows: rows, affected: nil, plan: plan, into: &report)
                        chunkEvent(position, failed: false)
                    }
                    start = end
                    continue
                }
            }
            for position in start..<end {
                let chunk = plan.chunks[position]
                if position > start { try Task.checkCancellation() }
                do {
                    if let staging = chunk.staging {
                        let rows = try await database.transaction { db in
                            try await Self.runStaged(chunk, staging: staging, columns: columns, on: db)
                        }
                        try record(chunk, rows: rows, affected: nil, plan: plan, into: &report)
                    } else if returnsRows {
                        let rows =
                            savepoints
                            ? try await database.transaction { try await $0.query(chunk.statement) }
                            : try await database.query(chunk.statement)
                        try record(chunk, rows: rows, affected: nil, plan: plan, into: &report)
                    } else {
                        let affected =
                            savepoints
                            ? try await database.transaction { try await $0.execute(chunk.statement) }
                            : try await database.execute(chunk.statement)
                        try record(chunk, rows: [], affected: affected, plan: plan, into: &report)
                    }
                    chunkEvent(position, failed: false)
                } catch {
                    if error is CancellationError { throw error }
                    chunkEvent(position, failed: true)
                    let chunkFailure = UpsertChunkFailure(chunk: position, rowIndices: chunk.rowIndices, error: error)
                    guard failure == .continue else { throw BatchWriteError(report: report, failure: chunkFailure) }
                    report.failures.append(chunkFailure)
                }
            }
            start = end
        }
    }

    /// Runs a fast-path chunk in the transaction of `database`: creates the staging table, copies
    /// the chunk's rows into it, upserts them from there and drops the table.
    private static func runStaged(
        _ chunk: UpsertChunk, staging: UpsertStaging, columns: [String], on database: any SQLDatabase
    ) async throws -> [SQLRow] {
        guard let loader = database as? any SQLBulkLoading else {
            throw BatchError(
                code: .unsupported,
                message: "the fast path needs a database that loads rows in bulk (SQLBulkLoading) inside its transactions: set usesFastPath to false")
        }
        try await database.execute(staging.create)
        _ = try await loader.copy(into: staging.table, columns: columns, rows: chunk.stagedRows)
        let rows = try await database.query(chunk.statement)
        try await database.execute(staging.drop)
        return rows
    }

    /// Adds a committed chunk to the report: its rows written (`affected`, or read from `rows`),
    /// inserted and updated, and returned rows.
    private func record(
        _ chunk: UpsertChunk, rows: [SQLRow], affected: Int?, plan: UpsertPlan, into report: inout UpsertReport
    ) throws {
        var written = affected ?? rows.count
        var inserted = 0
        var returned: [SQLRow] = []
        if plan.returnsCounts {
            inserted = Int(try rows[0].decode(Int64.self, at: 0))
            written = Int(try rows[0].decode(Int64.self, at: 1))
        } else if plan.returnsInsertFlags {
            for row in rows where row[row.count - 1] == .bool(true) { inserted += 1 }
            if !returning.isEmpty { returned = rows.map(Self.droppingInsertFlag) }
        } else {
            returned = rows
        }
        report.chunksCommitted += 1
        report.rowsCommitted += chunk.rowIndices.count
        report.rowsWritten += written
        report.committedRowIndices += chunk.rowIndices
        report.returnedRows += returned
        if plan.returnsInsertFlags || plan.returnsCounts {
            report.inserted? += inserted
            report.updated? += written - inserted
        }
    }

    /// A row without its last column (the insert flag).
    private static func droppingInsertFlag(_ row: SQLRow) -> SQLRow {
        SQLRow(columns: SQLColumns(Array(row.columns.names.dropLast())), values: Array(row.values.dropLast()))
    }

    /// A report of a whole-batch transaction that rolled back.
    private static func rolledBack(_ report: UpsertReport) -> UpsertReport {
        var empty = UpsertReport()
        empty.rowsReceived = report.rowsReceived
        empty.duplicatesRemoved = report.duplicatesRemoved
        empty.chunks = report.chunks
        empty.usedFastPath = report.usedFastPath
        empty.inserted = report.inserted.map { _ in 0 }
        empty.updated = report.updated.map { _ in 0 }
        return empty
    }
}
