public import SQLCore

extension Upsert {
    /// The name of the column PostgreSQL statements return last to tell inserts from updates.
    static let insertFlagColumn = "keel_inserted"

    /// Turns rows into chunked statements for `dialect`, without a database.
    ///
    /// Checks the description and every row first; then drops rows whose conflict key appears again
    /// later (the last one wins), sorts the rest by key (``sortsByKey``), and cuts them into chunks
    /// of ``chunkSize`` rows, fewer when `columns × rows` would pass the dialect's bind limit.
    ///
    /// #### Errors
    /// ``BatchError`` naming the problem: no columns, a repeated or invalid column, a conflict or
    /// update column not among the columns, a row with the wrong number of values, a NULL key, or
    /// what the dialect cannot do.
    public func plan(for rows: [[SQLValue]], dialect: SQLDialect) throws(BatchError) -> UpsertPlan {
        let keyPositions = try validate(for: dialect)
        for (index, row) in rows.enumerated() where row.count != columns.count {
            throw BatchError(
                code: .wrongValueCount,
                message: "row \(index) has \(row.count) values; the upsert has \(columns.count) columns (\(columns.joined(separator: ", ")))")
        }

        let (order, duplicatesRemoved) = try keptRowsInOrder(rows, keyPositions: keyPositions)

        // PostgreSQL tells inserts from updates by `xmax = 0`. Without RETURNING columns, each
        // statement counts them on the server and returns one row, not one row per written row.
        let hasInsertFlag = dialect.supports(.insertFlag)
        let returnsCounts = hasInsertFlag && returning.isEmpty
        let returnsInsertFlags = hasInsertFlag && !returning.isEmpty
        var suffix = try conflictClause(for: dialect, returnsInsertFlags: hasInsertFlag)
        let quotedTable = try BatchIdentifier.quoted(table, dialect: dialect)
        let quotedColumns = try BatchIdentifier.quoted(columns, dialect: dialect)
        var prefix = SQLStatement(unsafeRaw: "INSERT INTO \(quotedTable) (\(quotedColumns.joined(separator: ", "))) ")
        if returnsCounts {
            let flag = try BatchIdentifier.quoted(Self.insertFlagColumn, dialect: dialect)
            prefix = SQLStatement(unsafeRaw: "WITH keel_written AS (") + prefix
            suffix.append(unsafeRaw: ") SELECT count(*) FILTER (WHERE \(flag)), count(*) FROM keel_written")
        }

        if let fastPath = try fastPathChunks(rows, order: order, dialect: dialect, prefix: prefix, suffix: suffix) {
            return UpsertPlan(chunks: fastPath, rowsReceived: rows.count, duplicatesRemoved: duplicatesRemoved,
                returnsInsertFlags: returnsInsertFlags, returnsCounts: returnsCounts)
        }

        let rowsPerChunk = max(1, min(chunkSize, dialect.maxBindParameters / columns.count))
        var chunks: [UpsertChunk] = []
        chunks.reserveCapacity((order.count + rowsPerChunk - 1) / rowsPerChunk)
        var start = 0
        while start < order.count {
            let indices = Array(order[start..<min(start + rowsPerChunk, order.count)])
            var statement = prefix
            statement.reserveCapacity(textBytes: indices.count * columns.count * 4 + 256, binds: indices.count * columns.count)
            statement.append(unsafeRaw: "VALUES ")
            for (position, index) in indices.enumerated() {
                statement.append(unsafeRaw: position == 0 ? "(" : ", (")
                for (column, value) in rows[index].enumerated() {
                    if column > 0 { statement.append(unsafeRaw: ", ") }
                    statement.append(bind: value)
                }
                statement.append(unsafeRaw: ")")
            }
            statement.append(suffix)
            chunks.append(UpsertChunk(statement: statement, rowIndices: indices))
            start += rowsPerChunk
        }
        return UpsertPlan(chunks: chunks, rowsReceived: rows.count, duplicatesRemoved: duplicatesRemoved,
                returnsInsertFlags: returnsInsertFlags, returnsCounts: returnsCounts)
    }

    /// The positions of the rows to write: without rows whose key appears again later (the last one
    /// wins), sorted by key when ``sortsByKey``; and how many were dropped.
    private func keptRowsInOrder(_ rows: [[SQLValue]], keyPositions: [Int]) throws(BatchError) -> (order: [Int], duplicatesRemoved: Int) {
        if keyPositions.count == 1, let keys = Self.integerKeys(of: rows, at: keyPositions[0]) {
            return keptRowsInOrder(integerKeys: keys)
        }
        var kept = [Bool](repeating: true, count: rows.count)
        if keyPositions.count == 1 {
            // One key column (the common case): keys are values, no array per row.
            let position = keyPositions[0]
            var lastPosition: [SQLValue: Int] = [:]
            lastPosition.reserveCapacity(rows.count)
            for (index, row) in rows.enumerated() {
                if row[position].isNull {
                    try checkNullAllowed(row: index, keyColumn: 0)
                    continue  // never a duplicate of anything
                }
                if let earlier = lastPosition.updateValue(index, forKey: row[position]) { kept[earlier] = false }
            }
        } else {
            var lastPosition: [[SQLValue]: Int] = [:]
            lastPosition.reserveCapacity(rows.count)
            for (index, row) in rows.enumerated() {
                let key = keyPositions.map { row[$0] }
                if let nullPosition = key.firstIndex(where: \.isNull) {
                    try checkNullAllowed(row: index, keyColumn: nullPosition)
                    continue
                }
                if let earlier = lastPosition.updateValue(index, forKey: key) { kept[earlier] = false }
            }
        }
        var order = rows.indices.filter { kept[$0] }
        let duplicatesRemoved = rows.count - order.count
        if sortsByKey {
            if keyPositions.count == 1 {
                let position = keyPositions[0]
                let keys = rows.map { $0[position] }
                order.sort { SQLValueOrdering.precedes(keys[$0], keys[$1]) }
            } else {
                let keys = order.map { index in keyPositions.map { rows[index][$0] } }
                order = zip(order, keys).sorted { SQLValueOrdering.precedes($0.1, $1.1) }.map(\.0)
            }
        }
        return (order, duplicatesRemoved)
    }

    /// The key of every row when all are integers (the most common key), else `nil`.
    private static func integerKeys(of rows: [[SQLValue]], at position: Int) -> [Int64]? {
        var keys: [Int64] = []
        keys.reserveCapacity(rows.count)
        for row in rows {
            guard case .int64(let key) = row[position] else { return nil }
            keys.append(key)
        }
        return keys
    }

    /// ``keptRowsInOrder(_:keyPositions:)`` for one integer key column, without boxing keys as
    /// values: the same rows in the same order (``SQLValueOrdering`` orders integers by value).
    private func keptRowsInOrder(integerKeys keys: [Int64]) -> (order: [Int], duplicatesRemoved: Int) {
        var kept = [Bool](repeating: true, count: keys.count)
        var lastPosition: [Int64: Int] = [:]
        lastPosition.reserveCapacity(keys.count)
        for (index, key) in keys.enumerated() {
            if let earlier = lastPosition.updateValue(index, forKey: key) { kept[earlier] = false }
        }
        var order = keys.indices.filter { kept[$0] }
        let duplicatesRemoved = keys.count - order.count
        if sortsByKey {
            var pairs = order.map { (key: keys[$0], index: $0) }
            pairs.sort { $0.key < $1.key }
            order = pairs.map(\.index)
        }
        return (order, duplicatesRemoved)
    }

    private func checkNullAllowed(row: Int, keyColumn: Int) throws(BatchError) {
        guard allowsNullKeys else {
            throw BatchError(
                code: .nullKey,
                message: "row \(row) has NULL in conflict-key column \(keyColumns[keyColumn]): a NULL key never conflicts, "
                    + "so the row would be inserted again on every run; set allowsNullKeys to accept it")
        }
    }

    /// The name of the temporary table fast-path chunks are copied into.
    static let stagingTable = "keel_upsert_stage"

    /// PostgreSQL's fast-path chunks (rows copied into a temporary table, then one
    /// `INSERT ... SELECT ... ON CONFLICT`), or `nil` when the batch does not qualify (another
    /// dialect, too few rows, the fast path off).
    private func fastPathChunks(
        _ rows: [[SQLValue]], order: [Int], dialect: SQLDialect, prefix: SQLStatement, suffix: SQLStatement
    ) throws(BatchError) -> [UpsertChunk]? {
        guard usesFastPath, dialect.supports(.bulkLoadStaging), order.count >= fastPathThreshold else { return nil }
        let table = try BatchIdentifier.quoted(self.table, dialect: dialect)
        let stage = try BatchIdentifier.quoted(Self.stagingTable, dialect: dialect)
        let columns = try BatchIdentifier.quoted(self.columns, dialect: dialect).joined(separator: ", ")
        let staging = UpsertStaging(
            table: Self.stagingTable,
            create: SQLStatement(unsafeRaw: "CREATE TEMPORARY TABLE \(stage) ON COMMIT DROP AS SELECT \(columns) FROM \(table) WITH NO DATA"),
            drop: SQLStatement(unsafeRaw: "DROP TABLE \(stage)"))
        // No ORDER BY: the rows are copied in the plan's order (sorted by key), and PostgreSQL
        // reads a temporary table that was only appended to in the order its rows were written
        // (temporary tables are never scanned in parallel nor from a synchronized start). So rows
        // are locked in the same order as on the default path, also for text keys, whose order
        // under the database's collation may differ from the plan's.
        var statement = prefix
        statement.append(unsafeRaw: "SELECT \(columns) FROM \(stage)")
        statement.append(suffix)
        var chunks: [UpsertChunk] = []
        var start = 0
        while start < order.count {
            let end = min(start + fastPathChunkSize, order.count)
            let indices = Array(order[start..<end])
            chunks.append(
                UpsertChunk(statement: statement, rowIndices: indices, staging: staging, stagedRows: indices.map { rows[$0] }))
            start = end
        }
        return chunks
    }

    /// ` ON CONFLICT ... DO ... [WHERE ...] [RETURNING ...]`, the same for every chunk.
    private func conflictClause(for dialect: SQLDialect, returnsInsertFlags: Bool) throws(BatchError) -> SQLStatement {
        var clause = SQLStatement(unsafeRaw: " ON CONFLICT ")
        switch conflictTarget {
        case .columns(let keys, let predicate):
            clause.append(unsafeRaw: "(\(try BatchIdentifier.quoted(keys, dialect: dialect).joined(separator: ", ")))")
            if let predicate {
                clause.append(unsafeRaw: " WHERE ")
                clause.append(predicate)
            }
        case .constraint(let name, _):
            clause.append(unsafeRaw: "ON CONSTRAINT \(try BatchIdentifier.quoted(name, dialect: dialect))")
        }

        let assignments: [(column: String, value: SQLStatement)]
        var comparedColumns: [String] = []
        switch action {
        case .doNothing:
            assignments = []
        case .update(let updated):
            assignments = try excludedValues(of: updated, dialect: dialect)
            comparedColumns = updated
        case .updateAllExceptKeys:
            let updated = columns.filter { !keyColumns.contains($0) }
            assignments = try excludedValues(of: updated, dialect: dialect)
            comparedColumns = updated
        case .updateExpressions(let expressions):
            assignments = expressions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }

        if assignments.isEmpty {
            clause.append(unsafeRaw: " DO NOTHING")
        } else {
            clause.append(unsafeRaw: " DO UPDATE SET ")
            for (position, assignment) in assignments.enumerated() {
                if position > 0 { clause.append(unsafeRaw: ", ") }
                clause.append(unsafeRaw: "\(try BatchIdentifier.quoted(assignment.column, dialect: dialect)) = ")
                clause.append(assignment.value)
            }
            var conditions: [SQLStatement] = []
            if let updateCondition { conditions.append(updateCondition) }
            if skipsUnchangedRows, !comparedColumns.isEmpty {
                conditions.append(SQLStatement(unsafeRaw: try changedCondition(comparedColumns, dialect: dialect)))
            }
            if !conditions.isEmpty {
                clause.append(unsafeRaw: " WHERE ")
                for (position, condition) in conditions.enumerated() {
                    if position > 0 { clause.append(unsafeRaw: " AND ") }
                    clause.append(unsafeRaw: "(")
                    clause.append(condition)
                    clause.append(unsafeRaw: ")")
                }
            }
        }

        var returned = try BatchIdentifier.quoted(returning, dialect: dialect)
        if returnsInsertFlags { returned.append("(xmax = 0) AS \(try BatchIdentifier.quoted(Self.insertFlagColumn, dialect: dialect))") }
        if !returned.isEmpty {
            clause.append(unsafeRaw: " RETURNING \(returned.joined(separator: ", "))")
        }
        return clause
    }

    /// True when an updated column would change: PostgreSQL compares row values with
    /// `IS DISTINCT FROM`; SQLite, column by column with `IS NOT` (both treat NULLs as comparable).
    private func changedCondition(_ compared: [String], dialect: SQLDialect) throws(BatchError) -> String {
        let table = try BatchIdentifier.quoted(self.table, dialect: dialect)
        let quoted = try BatchIdentifier.quoted(compared, dialect: dialect)
        if dialect.supports(.rowValueComparison) {
            let existing = quoted.map { "\(table).\($0)" }
            let incoming = quoted.map { "EXCLUDED.\($0)" }
            return quoted.count == 1
                ? "\(existing[0]) IS DISTINCT FROM \(incoming[0])"
                : "(\(existing.joined(separator: ", "))) IS DISTINCT FROM (\(incoming.joined(separator: ", ")))"
        }
        return quoted.map { "\(table).\($0) IS NOT EXCLUDED.\($0)" }.joined(separator: " OR ")
    }

    /// `column = EXCLUDED.column` assignments of `columns`.
    private func excludedValues(of columns: [String], dialect: SQLDialect) throws(BatchError) -> [(column: String, value: SQLStatement)] {
        var assignments: [(column: String, value: SQLStatement)] = []
        for column in columns {
            assignments.append((column, SQLStatement(unsafeRaw: "EXCLUDED.\(try BatchIdentifier.quoted(column, dialect: dialect))")))
        }
        return assignments
    }

    /// Checks the description against `dialect`; returns the positions of the key columns.
    private func validate(for dialect: SQLDialect) throws(BatchError) -> [Int] {
        _ = try BatchIdentifier.quoted(table, what: "table", dialect: dialect)
        guard !columns.isEmpty else {
            throw BatchError(code: .emptyColumns, message: "the upsert into \(table) has no columns")
        }
        var seen = Set<String>()
        for column in columns {
            _ = try BatchIdentifier.quoted(column, what: "column", dialect: dialect)
            guard seen.insert(column).inserted else {
                throw BatchError(code: .duplicateColumn, message: "column \(column) is listed twice")
            }
        }
        guard !keyColumns.isEmpty else {
            throw BatchError(code: .emptyConflictTarget, message: "the conflict target names no column")
        }
        let keyPositions = try keyColumns.map { (key) throws(BatchError) -> Int in
            guard let position = columns.firstIndex(of: key) else {
                throw BatchError(
                    code: .columnNotInColumns,
                    message: "conflict column \(key) is not among the columns (\(columns.joined(separator: ", ")))")
            }
            return position
        }
        let updated: [String] =
            switch action {
            case .update(let names): names
            case .updateExpressions(let expressions): Array(expressions.keys)
            case .doNothing, .updateAllExceptKeys: []
            }
        for column in updated {
            _ = try BatchIdentifier.quoted(column, what: "column", dialect: dialect)
            guard columns.contains(column) else {
                throw BatchError(
                    code: .columnNotInColumns, message: "updated column \(column) is not among the columns (\(columns.joined(separator: ", ")))")
            }
        }
        for column in returning { _ = try BatchIdentifier.quoted(column, what: "returned column", dialect: dialect) }
        if case .constraint(let name, _) = conflictTarget {
            _ = try BatchIdentifier.quoted(name, what: "constraint", dialect: dialect)
            guard dialect.supports(.onConflictOnConstraint) else {
                throw BatchError(code: .unsupported, message: "\(dialect.name) has no ON CONFLICT ON CONSTRAINT: name the key columns instead")
            }
        }
        if !returning.isEmpty, !dialect.supports(.returning) {
            throw BatchError(code: .unsupported, message: "this \(dialect.name) has no RETURNING (SQLite 3.35 or later has)")
        }
        guard dialect.supports(.onConflict) else {
            throw BatchError(code: .unsupported, message: "this \(dialect.name) has no ON CONFLICT (SQLite 3.24 or later has)")
        }
        guard chunkSize >= 1 else {
            throw BatchError(code: .invalidSetting, message: "chunkSize is \(chunkSize): it must be at least 1")
        }
        guard fastPathChunkSize >= 1 else {
            throw BatchError(code: .invalidSetting, message: "fastPathChunkSize is \(fastPathChunkSize): it must be at least 1")
        }
        guard columns.count <= dialect.maxBindParameters else {
            throw BatchError(
                code: .unsupported,
                message: "one row has \(columns.count) binds; \(dialect.name) allows \(dialect.maxBindParameters) per statement")
        }
        return keyPositions
    }
}
