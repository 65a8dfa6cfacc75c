import KeelCore
import SQLCore

/// The ``SQLDatabase`` a transaction body receives: every statement runs on the writer
/// connection the transaction holds; `transaction` nests as a savepoint.
struct SQLiteTransaction: SQLDatabase {
    let lease: SQLiteLeaseJob
    let depth: Int
    let dialect: SQLDialect
    let observer: StatementObserver

    func execute(_ statement: SQLStatement) async throws -> Int {
        try statement.validate(for: dialect)
        return try await observer.observe(sql: { statement.sqlText(for: dialect) }) {
            try await lease.run { try $0.execute(statement) }
        }
    }

    func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        try statement.validate(for: dialect)
        return try await observer.observe(sql: { statement.sqlText(for: dialect) }) {
            try await lease.run { try $0.query(statement) }
        }
    }

    func transaction<Result: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        let inner = SQLiteTransaction(lease: lease, depth: depth + 1, dialect: dialect, observer: observer)
        return try await SQLiteTransaction.run(depth: depth, lease: lease) { try await body(inner) }
    }

    /// Runs `body` between the control statements of ``SQLTransactionScope`` on the lease's
    /// connection; control statements run even in a cancelled task, so rollbacks happen.
    static func run<Result>(depth: Int, lease: SQLiteLeaseJob, body: () async throws -> Result) async throws -> Result {
        try await SQLTransactionScope.run(
            depth: depth,
            execute: { sql in
                let sql = sql == "BEGIN" ? "BEGIN IMMEDIATE" : sql
                try await lease.run(cancellable: false) { try $0.executeControl(sql) }
            },
            body: body)
    }
}
