/// Work a ``SQLiteWorkQueue`` hands to the thread of a connection: a statement or closure
/// (``SQLiteJob``) or a hold on the writer for an async transaction (``SQLiteLeaseJob``).
protocol SQLiteWorkItem: AnyObject, Sendable {
    /// Where the work is; only under the queue's lock.
    var state: SQLiteWorkState { get set }
    /// Whether its task was cancelled while it ran; only under the queue's lock.
    var isCancelRequested: Bool { get set }
    /// Runs the work on the calling connection thread, marks it finished with
    /// ``SQLiteWorkQueue/finish(_:)`` and resumes its caller.
    func perform(on connection: SQLiteConnection)
    /// Resumes its caller with an error, without running (cancelled while waiting, or the
    /// queue is closed).
    func resume(throwing error: any Error)
}
