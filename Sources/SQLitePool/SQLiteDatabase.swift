import KeelCore
public import Pooling
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
/// ## Pools
/// The writer and the readers are `ConnectionPool`s of ``SQLiteWorker``s, as
/// PostgreSQL's connections are: the same `PoolConfiguration` (and `DB_…` variables),
/// `PoolStatistics`, metrics, leak detection, acquire timeouts and shutdown. The readers' pool
/// has the configuration's size (`PoolConfiguration.maxConnections` readers); the writer's
/// is a pool of one with the same settings, whose waiters are served first in, first out. The
/// pools' background work runs in tasks the database starts and ends in ``close()``.
///
/// ## Waiting, cancelling, busy
/// Work waiting in a queue leaves it when its task is cancelled; a running statement is stopped
/// with `sqlite3_interrupt`; both throw `CancellationError`. A statement that finds the file locked
/// by another process is retried with back-off up to ``SQLiteConfiguration/busyTimeout``.
///
/// Inside a ``transaction(_:)`` body use the database the body receives: a `transaction` on this
/// database from inside the body waits for the writer the body holds, forever.
public final class SQLiteDatabase: SQLDatabase, Service {
    /// A pool of SQLite connections.
    public typealias Pool = ConnectionPool<SQLiteConnectionSource, ContinuousClock>

    /// The configuration it was opened with.
    public let configuration: SQLiteConfiguration
    /// SQLite's dialect as linked (version, bind limit).
    public let dialect: SQLDialect
    /// The writer: a pool of one connection. In memory it serves reads too.
    public let writerPool: Pool
    /// The readers; `nil` in memory, where the writer serves reads too.
    public let readerPool: Pool?
    /// The pools' background work, ended by ``close()``: the writer's, and the readers' (started
    /// once the writer has created the file).
    private let writerRun: Task<Void, Never>
    private let readerRun: Task<Void, Never>?
    /// Spans, the statement timer (the `pool` dimension is the readers' pool name) and the
    /// slow-statement log of ``execute(_:)``, ``query(_:)`` and the statements of transactions.
    private let observer: StatementObserver
    private let isClosed = Locked(false)

    /// Opens (and creates, when missing) the database: the writer first, which sets the journal
    /// mode, then every reader, so a bad file or setting fails here and not at the first query.
    ///
    /// - Parameters:
    ///   - configuration: The file and the settings of every connection.
    ///   - pool: The readers' pool (its `PoolConfiguration.maxConnections` is the number
    ///     of readers) and, as a pool of one, the writer's. `nil` (the default): all
    ///     ``SQLiteConfiguration/readerCount`` readers open for good, as
    ///     ``defaultPoolConfiguration(for:)`` says.
    ///
    /// #### Errors
    /// ``SQLiteError`` for a bad setting, a missing directory, a read-only location, or a file
    /// that is not a SQLite database; what ``SQLiteConfiguration/onConnect`` throws;
    /// `PoolConfigurationError` for a pool setting out of range.
    public init(configuration: SQLiteConfiguration, pool: PoolConfiguration? = nil) async throws {
        try configuration.validate()
        self.configuration = configuration
        let readerConfiguration = pool ?? Self.defaultPoolConfiguration(for: configuration)
        var writerConfiguration = readerConfiguration
        writerConfiguration.minConnections = 1
        writerConfiguration.maxConnections = 1
        writerConfiguration.maxOverflow = 0
        writerConfiguration.name = readerConfiguration.name + "-writer"
        observer = StatementObserver(
            system: "sqlite", poolName: readerConfiguration.name, factory: readerConfiguration.metricsFactory,
            slowThreshold: configuration.slowStatementThreshold, slowLogLevel: configuration.slowStatementLogLevel,
            logger: configuration.logger)
        if case .inMemory = configuration.location {
            // The data lives in the connection: it is never closed while the database is open.
            writerConfiguration.idleTimeout = nil
            writerConfiguration.maxLifetime = nil
        }
        let writerPool = try Pool(
            source: SQLiteConnectionSource(configuration: configuration, opensReaders: false), configuration: writerConfiguration)
        var readerPool: Pool?
        if case .file = configuration.location {
            readerPool = try Pool(
                source: SQLiteConnectionSource(configuration: configuration, opensReaders: true), configuration: readerConfiguration)
        }
        writerRun = Task { try? await writerPool.run() }
        self.writerPool = writerPool
        self.readerPool = readerPool
        do {
            dialect = try await Self.open(1, in: writerPool)
        } catch {
            await Self.stop(readers: nil, writer: writerPool, readerRun: nil, writerRun: writerRun)
            throw error
        }
        guard let readerPool else {
            readerRun = nil
            return
        }
        readerRun = Task { try? await readerPool.run() }
        do {
            _ = try await Self.open(readerConfiguration.maxConnections, in: readerPool)
        } catch {
            await Self.stop(readers: readerPool, writer: writerPool, readerRun: readerRun, writerRun: writerRun)
            throw error
        }
    }

    /// Opens a database file (created when missing) with the default settings.
    ///
    /// #### Errors
    /// As ``init(configuration:pool:)``.
    public convenience init(path: String) async throws {
        try await self.init(configuration: SQLiteConfiguration(path: path))
    }

    /// The pool settings a database uses when given none: ``SQLiteConfiguration/readerCount``
    /// readers, all kept open (no idle timeout, no lifetime, no validation: a SQLite connection
    /// does not go stale), logging to the configuration's logger.
    public static func defaultPoolConfiguration(for configuration: SQLiteConfiguration) -> PoolConfiguration {
        var pool = PoolConfiguration(logger: configuration.logger)
        pool.maxConnections = configuration.readerCount
        pool.minConnections = configuration.readerCount
        pool.idleTimeout = nil
        pool.maxLifetime = nil
        pool.validation = .never
        pool.reuseOrder = .longestIdleFirst
        pool.name = "sqlite"
        return pool
    }

    /// Leases `count` connections at once, so the pool opens them, then returns them; the dialect
    /// of the first. A failed open is thrown as the connection's own error.
    private static func open(_ count: Int, in pool: Pool) async throws -> SQLDialect {
        let lease: ConnectionLease<SQLiteConnectionSource, ContinuousClock>
        do {
            lease = try await pool.leaseConnection()
        } catch let error as PoolError {
            throw error.lastConnectionError ?? error
        }
        let dialect = lease.connection.dialect
        do {
            if count > 1 { _ = try await open(count - 1, in: pool) }
        } catch {
            await lease.release()
            throw error
        }
        await lease.release()
        return dialect
    }

    deinit {
        // Closed without `close()`: the pools close their connections (each thread finishes its
        // queued work first) and end.
        readerRun?.cancel()
        writerRun.cancel()
    }

    /// The work queued and running now.
    public var statistics: SQLiteStatistics {
        let writes = writerPool.statistics
        let reads = readerPool?.statistics
        return SQLiteStatistics(
            queuedWrites: writes.waiting, runningWrites: writes.inUse, queuedReads: reads?.waiting ?? 0,
            runningReads: reads?.inUse ?? 0, readerCount: reads?.open ?? 0)
    }

    // MARK: Closures on a connection

    /// Runs `body` on a reader connection, in a read transaction: every statement in it sees the
    /// same committed state. Runs on the reader's own thread; keep it free of long waits.
    ///
    /// #### Errors
    /// What `body` throws, ``SQLiteError``, `PoolError` (an acquire timeout, shutdown), or `CancellationError`.
    public func read<Result: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> Result) async throws -> Result {
        try await (readerPool ?? writerPool).withConnection { worker in
            try await worker.run { connection in try connection.inTransaction(beginningWith: "BEGIN", body) }
        }
    }

    /// Runs `body` on the writer connection in a `BEGIN IMMEDIATE` transaction: committed when it
    /// returns, rolled back when it throws or its task is cancelled.
    ///
    /// #### Errors
    /// What `body` throws, ``SQLiteError``, `PoolError` (an acquire timeout, shutdown), or `CancellationError`.
    @discardableResult
    public func write<Result: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> Result) async throws -> Result {
        try await writerPool.withConnection { worker in
            try await worker.run { connection in try connection.inTransaction(beginningWith: "BEGIN IMMEDIATE", body) }
        }
    }

    // MARK: SQLDatabase

    /// Runs a statement on the writer and returns the number of rows it changed. Without binds,
    /// the text may hold several statements (a migration script).
    ///
    /// #### Errors
    /// ``SQLiteError``, `SQLStatementError` for a statement that does not render, `PoolError`, or `CancellationError`.
    @discardableResult
    public func execute(_ statement: SQLStatement) async throws -> Int {
        try statement.validate(for: dialect)
        return try await writerPool.withConnection { worker in
            try await observer.observe(sql: { statement.sqlText(for: dialect) }) {
                try await worker.run { try $0.execute(statement) }
            }
        }
    }

    /// Runs a statement on a reader and returns its rows; a statement that writes runs on the writer.
    ///
    /// #### Errors
    /// As ``execute(_:)``.
    public func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        try statement.validate(for: dialect)
        if let readerPool {
            let rows = try await readerPool.withConnection { worker in
                try await observer.observe(sql: { statement.sqlText(for: dialect) }) {
                    try await worker.run { try $0.queryIfReadOnly(statement) }
                }
            }
            if let rows { return rows }
        }
        return try await writerPool.withConnection { worker in
            try await observer.observe(sql: { statement.sqlText(for: dialect) }) {
                try await worker.run { try $0.query(statement) }
            }
        }
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction holding the writer: its statements run in
    /// order on the writer connection; other writes wait; reads go on in parallel and see the state
    /// before the transaction until it commits.
    ///
    /// #### Errors
    /// As `SQLTransactionScope.run(depth:execute:body:)`, or `PoolError`.
    @discardableResult
    public func transaction<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await writerPool.withConnection { worker in
            let lease = SQLiteLeaseJob(writer: worker.queue)
            try await lease.acquire()
            let database = SQLiteTransaction(lease: lease, depth: 1, dialect: dialect, observer: observer)
            do {
                let result = try await SQLiteTransaction.run(depth: 0, lease: lease) { try await body(database) }
                lease.release()
                return result
            } catch {
                lease.release()
                throw error
            }
        }
    }

    // MARK: Closing

    /// Closes the database: new work is refused, running work finishes (up to the pool's
    /// `PoolConfiguration.shutdownGracePeriod`), the readers close, then the writer
    /// checkpoints the WAL into the file and closes. Calling it again waits for nothing.
    public func close() async {
        let first = isClosed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        await Self.stop(readers: readerPool, writer: writerPool, readerRun: readerRun, writerRun: writerRun)
    }

    /// Shuts the readers' pool down, then the writer's (which checkpoints the WAL as it closes),
    /// and waits for their background work to end.
    private static func stop(readers: Pool?, writer: Pool, readerRun: Task<Void, Never>?, writerRun: Task<Void, Never>) async {
        await readers?.shutdown()
        await writer.shutdown()
        await readerRun?.value
        await writerRun.value
    }

    /// Keeps the database open until graceful shutdown (or cancellation), then closes it: add it
    /// to a `ServiceGroup`.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}
