/// A SQL database a backend connects to: the seam between Keel's backends and the code
/// that only needs to run statements (Batching, your repositories).
///
/// ```swift
/// func markDelisted(_ symbols: [String], in database: some SQLDatabase) async throws -> Int {
///     try await database.transaction { db in
///         try await db.execute("UPDATE tokens SET active = \(false) WHERE symbol IN (\(list: symbols))")
///     }
/// }
/// ```
///
/// ## Contract
/// Conforming backends run `SQLDatabaseConformance` in their tests. They promise:
/// - Binds are sent as parameters, never spliced into SQL text.
/// - ``transaction(_:)`` runs its body on one connection between `BEGIN` and `COMMIT`. It rolls
///   back when the body throws and when the task is cancelled before the commit is sent, and
///   rethrows (`CancellationError` for a cancellation).
/// - Calling ``transaction(_:)`` on the database handed to a transaction body nests it as a
///   savepoint: the inner body's changes roll back alone when it throws, and commit with the
///   outer transaction. ``SQLTransactionScope`` implements this for backends.
/// - Errors never contain bind values or passwords.
public protocol SQLDatabase: Sendable {
    /// The SQL dialect statements are rendered for.
    var dialect: SQLDialect { get }

    /// Runs a statement that returns no rows and returns the number of rows it affected
    /// (0 for statements that affect none, such as `CREATE TABLE`).
    @discardableResult
    func execute(_ statement: SQLStatement) async throws -> Int

    /// Runs a statement and returns all its rows.
    func query(_ statement: SQLStatement) async throws -> [SQLRow]

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws or
    /// the task is cancelled before the commit. A nested call is a savepoint.
    @discardableResult
    func transaction<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result
}
