/// Where a piece of work is in its queue's life; read and written only under the queue's lock.
enum SQLiteWorkState {
    /// Created, not yet in a queue.
    case pending
    /// Waiting in the queue for a connection.
    case queued
    /// Running on the connection this interrupter stops.
    case running(SQLiteInterrupter)
    /// Done, cancelled while waiting, or refused: it will not run (again).
    case finished
}
