public import Pooling

/// Opens and closes the connections of a ``SQLiteDatabase``'s pools: each a ``SQLiteWorker``, a
/// connection on a thread of its own.
public struct SQLiteConnectionSource: ConnectionSource {
    /// How connections are opened.
    public let configuration: SQLiteConfiguration
    /// Whether this source opens read-only readers (or the writer).
    public let opensReaders: Bool

    /// A source of readers or of the writer for `configuration`.
    public init(configuration: SQLiteConfiguration, opensReaders: Bool) {
        self.configuration = configuration
        self.opensReaders = opensReaders
    }

    /// Opens a connection on a new thread: the settings, the set-up SQL and the
    /// ``SQLiteConfiguration/onConnect`` hook run on it before it is handed out. `timeout` does
    /// not apply: opening a file does not wait on a network.
    ///
    /// #### Errors
    /// ``SQLiteError`` when the file cannot be opened or set up, or what ``SQLiteConfiguration/onConnect`` throws.
    public func makeConnection(timeout: Duration) async throws -> SQLiteWorker {
        let queue = SQLiteWorkQueue()
        let name = opensReaders ? "keel-sqlite-reader" : "keel-sqlite-writer"
        let dialect = try await SQLiteConnectionThread.start(
            serving: queue, configuration: configuration, isReader: opensReaders, name: name)
        return SQLiteWorker(queue: queue, dialect: dialect, isReader: opensReaders)
    }

    /// Ends the connection's thread once its work is done; the writer checkpoints the WAL into
    /// the file first.
    public func close(_ connection: SQLiteWorker) async {
        await connection.queue.closeAndWait()
    }
}
