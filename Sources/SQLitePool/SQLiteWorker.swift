public import SQLCore

/// One SQLite connection and the thread that owns it: what a ``SQLiteDatabase``'s pools hold.
///
/// Work reaches the connection through the worker's own queue, which only its thread serves, so
/// no sqlite3 call runs on a cooperative thread. The pool leases a worker to one caller at a time.
public final class SQLiteWorker: Sendable {
    /// The work the thread serves.
    let queue: SQLiteWorkQueue
    /// SQLite's dialect as linked, with this connection's bind limit.
    public let dialect: SQLDialect
    /// Whether the connection is a read-only reader.
    public let isReader: Bool

    init(queue: SQLiteWorkQueue, dialect: SQLDialect, isReader: Bool) {
        self.queue = queue
        self.dialect = dialect
        self.isReader = isReader
    }

    /// Runs `body` on the connection's thread and returns its result; cancellation interrupts it.
    func run<Result: Sendable>(_ body: @escaping (SQLiteConnection) throws -> Result) async throws -> Result {
        try await SQLiteJob(queue: queue, body: body).run(cancellable: true)
    }
}
