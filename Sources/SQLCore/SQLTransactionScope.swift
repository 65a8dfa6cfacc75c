/// The transaction logic every backend shares: `BEGIN`/`COMMIT`/`ROLLBACK` at the outer level,
/// `SAVEPOINT`/`RELEASE`/`ROLLBACK TO` when nested, and rollback on cancellation.
///
/// A backend calls ``run(depth:execute:body:)`` from its ``SQLDatabase/transaction(_:)``
/// with a closure that sends one control statement on the transaction's connection, and hands
/// its body a database bound to that connection whose own `transaction` passes `depth + 1`.
public enum SQLTransactionScope {
    /// Runs `body` in a transaction (depth 0) or savepoint (depth > 0).
    ///
    /// The body's changes are committed (or the savepoint released) when it returns. They are
    /// rolled back when it throws, and when the task is cancelled by the time it returns (the
    /// error is then `CancellationError`). `execute` must run rollbacks even in a cancelled
    /// task, or the connection stays inside a failed transaction.
    ///
    /// #### Errors
    /// The body's error after a successful rollback; the commit's error when the commit fails;
    /// and when the rollback itself fails, the rollback's error (the connection is then broken
    /// and the backend should discard it).
    public static func run<Result>(
        depth: Int,
        execute: (String) async throws -> Void,
        body: () async throws -> Result
    ) async throws -> Result {
        precondition(depth >= 0, "a transaction depth is never negative")
        let savepoint = "keel_savepoint_\(depth)"
        try await execute(depth == 0 ? "BEGIN" : "SAVEPOINT \(savepoint)")
        let result: Result
        do {
            result = try await body()
            try Task.checkCancellation()
        } catch {
            if depth == 0 {
                try await execute("ROLLBACK")
            } else {
                try await execute("ROLLBACK TO SAVEPOINT \(savepoint)")
                try await execute("RELEASE SAVEPOINT \(savepoint)")
            }
            throw error
        }
        try await execute(depth == 0 ? "COMMIT" : "RELEASE SAVEPOINT \(savepoint)")
        return result
    }
}
