/// A hold on the writer connection for an async transaction: queued in the writer's FIFO like
/// any write; once it reaches the writer's thread, that thread serves only the lease's own
/// queue (the statements of the transaction body, sent one by one) until the lease is released.
final class SQLiteLeaseJob: SQLiteWorkItem, @unchecked Sendable {
    // @unchecked Sendable: `state` and `isCancelRequested` are guarded by the writer queue's lock;
    // `continuation` is set before the lease is queued and resumed once (the lock orders the two).
    var state = SQLiteWorkState.pending
    var isCancelRequested = false
    private let writer: SQLiteWorkQueue
    /// The statements of the transaction, served by the writer's thread while the lease holds it.
    private let inbox = SQLiteWorkQueue(closedError: .misuse("the transaction has ended: use the database it was started on"))
    // Resumed with no value; a failure is read from `failure` under the writer's lock (see SQLiteJob).
    private var continuation: UnsafeContinuation<Void, Never>?
    private var failure: (any Error)?

    init(writer: SQLiteWorkQueue) {
        self.writer = writer
    }

    /// Waits for the writer; a cancelled wait leaves the queue and throws `CancellationError`.
    func acquire() async throws {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                self.continuation = continuation
                writer.enqueue(self)
            }
        } onCancel: {
            writer.cancel(self)
        }
        if let failure = writer.locked({ failure }) { throw failure }
    }

    /// Runs `body` on the writer connection within the lease.
    func run<Result: Sendable>(
        cancellable: Bool = true, _ body: @escaping (SQLiteConnection) throws -> Result
    ) async throws -> Result {
        try await SQLiteJob(queue: inbox, body: body).run(cancellable: cancellable)
    }

    /// Ends the lease: the writer's thread finishes what was sent and moves on.
    func release() {
        inbox.close()
    }

    func perform(on connection: SQLiteConnection) {
        inbox.threadStarted()
        continuation?.resume()
        while let work = inbox.next(runningOn: connection.interrupter) {
            work.perform(on: connection)
        }
        // A transaction left open (its rollback failed) must not leak into the next write.
        connection.rollbackIfInTransaction()
        inbox.threadExited()
        _ = writer.finish(self)
    }

    func resume(throwing error: any Error) {
        writer.locked { failure = error }
        continuation?.resume()
    }
}
