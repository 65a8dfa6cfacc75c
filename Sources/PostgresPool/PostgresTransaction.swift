import SQLCore

/// The database a transaction body gets: statements run on the transaction's connection, and
/// `transaction` nests as a savepoint.
struct PostgresTransaction: SQLPipelining, SQLBulkLoading {
    let connection: PostgresConnection
    let depth: Int

    var dialect: SQLDialect { connection.dialect }

    @discardableResult
    func execute(_ statement: SQLStatement) async throws -> Int {
        try await connection.execute(statement)
    }

    func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        try await connection.query(statement)
    }

    func queryPipelined(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        try await connection.queryPipelined(statements)
    }

    func copy(into table: String, columns: [String], rows: some Sequence<[SQLValue]> & Sendable) async throws -> Int {
        try await connection.copy(into: table, columns: columns, rows: rows)
    }

    @discardableResult
    func transaction<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await connection.transaction(depth: depth, body)
    }
}
