/// A closure to run on a connection's thread, and the caller waiting for its result.
final class SQLiteJob<Result: Sendable>: SQLiteWorkItem, @unchecked Sendable {
    // @unchecked Sendable: `state` and `isCancelRequested` are guarded by the queue's lock;
    // `continuation` is set before the job is queued and used once, by whoever finishes it
    // (the queue's lock orders the two).
    var state = SQLiteWorkState.pending
    var isCancelRequested = false
    private let queue: SQLiteWorkQueue
    private let body: (SQLiteConnection) throws -> Result
    // The caller is resumed with no value and reads `outcome` under the queue's lock: a value
    // passed through the continuation from this thread is a race ThreadSanitizer cannot see through.
    private var continuation: UnsafeContinuation<Void, Never>?
    private var outcome: Swift.Result<Result, any Error>?

    init(queue: SQLiteWorkQueue, body: @escaping (SQLiteConnection) throws -> Result) {
        self.queue = queue
        self.body = body
    }

    /// Queues the job and waits for its result; cancellation removes it from the queue while it
    /// waits, and interrupts its statement while it runs.
    ///
    /// With `cancellable` false the job runs even in a cancelled task: rollbacks use it.
    func run(cancellable: Bool) async throws -> Result {
        if cancellable {
            await withTaskCancellationHandler {
                await withUnsafeContinuation { continuation in
                    self.continuation = continuation
                    queue.enqueue(self)
                }
            } onCancel: {
                queue.cancel(self)
            }
        } else {
            await withUnsafeContinuation { continuation in
                self.continuation = continuation
                queue.enqueue(self)
            }
        }
        return try queue.locked { outcome! }.get()
    }

    func perform(on connection: SQLiteConnection) {
        let result = Swift.Result { try body(connection) }
        let cancelled = queue.finish(self)
        switch result {
        case .failure(let error as SQLiteError) where cancelled && error.isInterrupted:
            resume(throwing: CancellationError())
        default:
            queue.locked { outcome = result }
            continuation?.resume()
        }
    }

    func resume(throwing error: any Error) {
        queue.locked { outcome = .failure(error) }
        continuation?.resume()
    }
}
