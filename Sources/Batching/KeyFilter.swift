import SQLCore

/// The `WHERE key ...` of keyed updates and deletes, cut into chunks of keys.
///
/// A dialect with array binds gets `key = ANY($n::type[])` (`SQLDialect.arrayBind(of:)`): one
/// array bind per chunk and a constant SQL text, so the server reuses one prepared statement.
/// Others (and keys of mixed kinds) get `key IN ($1, $2, ...)`, chunked so that no statement
/// passes the dialect's bind limit.
enum KeyFilter {
    /// The keys without NULLs and repeats, sorted (so that concurrent writers lock rows in the same
    /// order).
    ///
    /// #### Errors
    /// ``BatchError/Code/nullKey`` for a NULL key: `key = NULL` matches no row.
    static func prepare(_ keys: [SQLValue], column: String) throws(BatchError) -> [SQLValue] {
        var seen = Set<SQLValue>()
        seen.reserveCapacity(keys.count)
        var unique: [SQLValue] = []
        unique.reserveCapacity(keys.count)
        for (index, key) in keys.enumerated() {
            guard !key.isNull else {
                throw BatchError(code: .nullKey, message: "key \(index) of column \(column) is NULL: it matches no row")
            }
            if seen.insert(key).inserted { unique.append(key) }
        }
        return unique.sorted { SQLValueOrdering.precedes([$0], [$1]) }
    }

    /// `prefix WHERE <key filter> [AND (condition)]` for each chunk of `keys`.
    ///
    /// #### Errors
    /// ``BatchError/Code/invalidSetting`` for a chunk size below 1; ``BatchError/Code/unsupported``
    /// when `prefix` and `condition` leave no room for a key under the bind limit.
    static func statements(
        prefix: SQLStatement, quotedKey: String, keys: [SQLValue], condition: SQLStatement?, chunkSize: Int,
        dialect: SQLDialect
    ) throws(BatchError) -> [SQLStatement] {
        guard chunkSize >= 1 else {
            throw BatchError(code: .invalidSetting, message: "chunkSize is \(chunkSize): it must be at least 1")
        }
        func statement(_ filter: SQLStatement) -> SQLStatement {
            var statement = prefix
            statement.append(unsafeRaw: " WHERE ")
            statement.append(filter)
            if let condition {
                statement.append(unsafeRaw: " AND (")
                statement.append(condition)
                statement.append(unsafeRaw: ")")
            }
            return statement
        }

        if dialect.supports(.arrayBinds) {
            let arrays = stride(from: 0, to: keys.count, by: chunkSize).compactMap { start in
                dialect.arrayBind(of: keys[start..<min(start + chunkSize, keys.count)])
            }
            if arrays.count == (keys.count + chunkSize - 1) / chunkSize {
                return arrays.map { array in
                    var filter = SQLStatement(unsafeRaw: "\(quotedKey) = ANY(")
                    filter.append(bind: array.value)
                    filter.append(unsafeRaw: "::\(array.arrayType))")
                    return statement(filter)
                }
            }
        }

        let room = dialect.maxBindParameters - prefix.bindCount - (condition?.bindCount ?? 0)
        guard room >= 1 else {
            throw BatchError(
                code: .unsupported,
                message: "the statement's own binds leave no room for a key under \(dialect.name)'s limit of \(dialect.maxBindParameters)")
        }
        let keysPerChunk = min(chunkSize, room)
        var statements: [SQLStatement] = []
        for start in stride(from: 0, to: keys.count, by: keysPerChunk) {
            var filter = SQLStatement(unsafeRaw: "\(quotedKey) IN (")
            for (position, key) in keys[start..<min(start + keysPerChunk, keys.count)].enumerated() {
                if position > 0 { filter.append(unsafeRaw: ", ") }
                filter.append(bind: key)
            }
            filter.append(unsafeRaw: ")")
            statements.append(statement(filter))
        }
        return statements
    }

    /// Runs `statements` and returns the rows they affected: in one transaction (all or nothing)
    /// or each on its own.
    ///
    /// #### Errors
    /// The first failing statement's error (under ``BatchTransaction/whole`` nothing is kept then);
    /// `CancellationError` between statements.
    static func run(_ statements: [SQLStatement], on database: any SQLDatabase, transaction: BatchTransaction) async throws -> Int {
        switch transaction {
        case .whole where statements.count > 1:
            try await database.transaction { try await runEach(statements, on: $0) }
        case .whole, .perChunk:
            try await runEach(statements, on: database)
        }
    }

    private static func runEach(_ statements: [SQLStatement], on database: any SQLDatabase) async throws -> Int {
        var affected = 0
        for statement in statements {
            try Task.checkCancellation()
            affected += try await database.execute(statement)
        }
        return affected
    }
}
