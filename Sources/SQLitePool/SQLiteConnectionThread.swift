import Foundation
import KeelCore
import SQLCore

/// The thread that owns one connection: it opens the connection, serves its queue until the
/// queue is closed and empty, then closes the connection. sqlite3 calls never run on Swift's
/// cooperative threads.
enum SQLiteConnectionThread {
    /// Starts a thread for a connection serving `queue`; returns once it is open.
    ///
    /// #### Errors
    /// The ``SQLiteError`` of opening the connection (the thread has then ended).
    static func start(
        serving queue: SQLiteWorkQueue, configuration: SQLiteConfiguration, isReader: Bool, name: String
    ) async throws -> SQLDialect {
        queue.threadStarted()
        // The outcome goes through a lock, not the continuation (see SQLiteJob).
        let opened = Locked<Result<SQLDialect, any Error>?>(nil)
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            BlockingThread.start(name: name) {
                let connection: SQLiteConnection
                do {
                    connection = try SQLiteConnection(configuration: configuration, isReader: isReader)
                    do {
                        try configuration.onConnect?(connection)
                    } catch {
                        connection.close(checkpoint: false)
                        throw error
                    }
                } catch {
                    queue.threadExited()
                    opened.withLock { $0 = .failure(error) }
                    continuation.resume()
                    return
                }
                configuration.logger.debug("SQLite connection opened", metadata: ["database": "\(connection.name)", "thread": "\(name)"])
                opened.withLock { $0 = .success(connection.dialect) }
                continuation.resume()
                while let work = queue.next(runningOn: connection.interrupter) {
                    work.perform(on: connection)
                }
                let isFile = if case .file = configuration.location { true } else { false }
                connection.close(checkpoint: !isReader && isFile && configuration.journalMode == .wal)
                configuration.logger.debug("SQLite connection closed", metadata: ["database": "\(connection.name)", "thread": "\(name)"])
                queue.threadExited()
            }
        }
        return try opened.withLock { $0! }.get()
    }
}
