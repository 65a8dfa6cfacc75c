import KeelLocking
public import SQLCore
public import ServiceLifecycle

/// A SQLite database: one writer connection and parallel readers in WAL mode, each on a
/// thread of its own. The embedded default: a file (or memory), nothing to set up.
///
/// ```swift
/// let database = try await SQLiteDatabase(path: "/tmp/tokens.sqlite")
/// try await database.execute("CREATE TABLE IF NOT EXISTS tokens (symbol TEXT PRIMARY KEY, price REAL)")
/// try await database.write { connection in                     // one transaction, one hop
///     for (symbol, price) in [("BTC", 97_000.0), ("ETH", 3_400.0)] {
///         try connection.execute("INSERT INTO tokens VALUES (\(symbol), \(price)) ON CONFLICT DO NOTHING")
///     }
/// }
/// let rows = try await database.query("SELECT symbol FROM tokens WHERE price > \(1_000.0)")
/// await database.close()
/// ```
///
/// ## Routing
/// - Writes queue in FIFO order for the one writer connection: ``execute(_:)``, ``write(_:)`` and
///   ``transaction(_:)`` (whose transactions begin with `BEGIN IMMEDIATE`, so they never fail
///   half-way on a lock).
/// - Reads run in parallel on the readers (``SQLiteConfiguration/readerCount``) and see the last
///   committed state, even while a write transaction is open: ``query(_:)`` and ``read(_:)``. A
///   `query` whose statement writes (`INSERT ... RETURNING`) is sent on to the writer.
/// - An in-memory database has one connection serving all of these in order.
///
/// ## Waiting, cancelling, busy
/// Work waiting in a queue leaves it when its task is cancelled; a running statement is stopped
/// with `sqlite3_interrupt`; both throw `CancellationError`. A statement that finds the file locked
/// by another process is retried with back-off up to ``SQLiteConfiguration/busyTimeout``.
///
/// Inside a ``transaction(_:)`` body use the database the body receives: a `transaction` on this
/// database from inside the body waits for the writer the body holds, forever.
public final class SQLiteDatabase: SQLDatabase, Service {
    /// The configuration it was opened with.
    public let configuration: SQLiteConfiguration
    /// SQLite's dialect as linked (version, bind limit).
    public let dialect: SQLDialect
    private let writer: SQLiteWorkQueue
    /// The readers' shared queue; `nil` in memory, where the writer serves reads too.
    private let readers: SQLiteWorkQueue?
    private let isClosed = Locked(false)

    /// Opens (and creates, when missing) the database: the writer first, which sets the journal
    /// mode, then the readers.
    ///
    /// #### Errors
    /// ``SQLiteError`` for a bad setting, a missing directory, a read-only location, or a file
    /// that is not a SQLite database.
    public init(configuration: SQLiteConfiguration) async throws {
        try configuration.validate()
        self.configuration = configuration
        let writer = SQLiteWorkQueue()
        dialect = try await SQLiteConnectionThread.start(
            serving: writer, configuration: configuration, isReader: false, name: "keel-sqlite-writer")
        self.writer = writer
        guard case .file = configuration.location else {
            readers = nil
            return
        }
        let readers = SQLiteWorkQueue()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<configuration.readerCount {
                    group.addTask {
                        _ = try await SQLiteConnectionThread.start(
                            serving: readers, configuration: configuration, isReader: true, name: "keel-sqlite-reader-\(index)")
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            await readers.closeAndWait()
            await writer.closeAndWait()
            throw error
        }
        self.readers = readers
    }

    /// Opens (and creates, when missing) a database file with the default settings.
    ///
    /// #### Errors
    /// As ``init(configuration:)``.
    public convenience init(path: String) async throws {
        try await self.init(configuration: SQLiteConfiguration(path: path))
    }

    deinit {
        // Closed without `close()`: the threads finish queued work, close their connections and end.
        readers?.close()
        writer.close()
    }

    /// The work queued and running now.
    public var statistics: SQLiteStatistics {
        let writes = writer.counts
        let reads = readers?.counts ?? (waiting: 0, running: 0)
        return SQLiteStatistics(
            queuedWrites: writes.waiting, runningWrites: writes.running, queuedReads: reads.waiting,
            runningReads: reads.running, readerCount: readers == nil ? 0 : configuration.readerCount)
    }

    // MARK: Closures on a connection

    /// Runs `body` on a reader connection, in a read transaction: every statement in it sees the
    /// same committed state. Runs on the reader's own thread; keep it free of long waits.
    ///
    /// #### Errors
    /// What `body` throws, ``SQLiteError``, or `CancellationError`.
    public func read<Result: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> Result) async throws -> Result {
        try await SQLiteJob(queue: readers ?? writer) { connection in
            try connection.inTransaction(beginningWith: "BEGIN", body)
        }.run(cancellable: true)
    }

    /// Runs `body` on the writer connection in a `BEGIN IMMEDIATE` transaction: committed when it
    /// returns, rolled back when it throws or its task is cancelled.
    ///
    /// #### Errors
    /// What `body` throws, ``SQLiteError``, or `CancellationError`.
    @discardableResult
    public func write<Result: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> Result) async throws -> Result {
        try await SQLiteJob(queue: writer) { connection in
            try connection.inTransaction(beginningWith: "BEGIN IMMEDIATE", body)
        }.run(cancellable: true)
    }

    // MARK: SQLDatabase

    /// Runs a statement on the writer and returns the number of rows it changed. Without binds,
    /// the text may hold several statements (a migration script).
    ///
    /// #### Errors
    /// ``SQLiteError``, `SQLStatementError` for a statement that does not render, or `CancellationError`.
    @discardableResult
    public func execute(_ statement: SQLStatement) async throws -> Int {
        let rendered = try statement.render(for: dialect)
        return try await SQLiteJob(queue: writer) { try $0.execute(rendered: rendered) }.run(cancellable: true)
    }

    /// Runs a statement on a reader and returns its rows; a statement that writes runs on the writer.
    ///
    /// #### Errors
    /// As ``execute(_:)``.
    public func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        let rendered = try statement.render(for: dialect)
        if let readers {
            let rows = try await SQLiteJob(queue: readers) { try $0.queryIfReadOnly(rendered: rendered) }
                .run(cancellable: true)
            if let rows { return rows }
        }
        return try await SQLiteJob(queue: writer) { try $0.query(rendered: rendered) }.run(cancellable: true)
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction holding the writer: its statements run in
    /// order on the writer connection; other writes wait; reads go on in parallel and see the state
    /// before the transaction until it commits.
    ///
    /// #### Errors
    /// As `SQLTransactionScope.run(depth:execute:body:)`.
    @discardableResult
    public func transaction<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        let lease = SQLiteLeaseJob(writer: writer)
        try await lease.acquire()
        let database = SQLiteTransaction(lease: lease, depth: 1, dialect: dialect)
        do {
            let result = try await SQLiteTransaction.run(depth: 0, lease: lease) { try await body(database) }
            lease.release()
            return result
        } catch {
            lease.release()
            throw error
        }
    }

    // MARK: Closing

    /// Closes the database: new work is refused, queued and running work finishes, the readers
    /// close, then the writer checkpoints the WAL into the file and closes. Calling it again waits
    /// for nothing.
    public func close() async {
        let first = isClosed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        await readers?.closeAndWait()
        await writer.closeAndWait()
    }

    /// Keeps the database open until graceful shutdown (or cancellation), then closes it: add it
    /// to a `ServiceGroup`.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}
