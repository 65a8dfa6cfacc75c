/// A database that sends several statements in one round trip (PostgreSQL's pipeline mode).
///
/// Code written against ``SQLDatabase`` checks for it at run time and falls back to one statement
/// at a time when the database does not conform:
///
/// ```swift
/// if let pipelined = database as? any SQLPipelining {
///     let results = try await pipelined.queryPipelined([first, second, third])
/// }
/// ```
public protocol SQLPipelining: SQLDatabase {
    /// Sends all `statements` at once and returns each one's rows, in order.
    ///
    /// Outside a transaction they run in one implicit transaction; inside one, in that
    /// transaction. When one fails, none takes effect and its error is thrown.
    func queryPipelined(_ statements: [SQLStatement]) async throws -> [[SQLRow]]
}
