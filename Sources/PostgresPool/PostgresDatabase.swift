public import Pooling
public import SQLCore
public import ServiceLifecycle

/// A PostgreSQL database behind a connection pool: the `SQLDatabase` applications use.
///
/// ```swift
/// let database = try PostgresDatabase(configuration: PostgresConfiguration(environment: ProcessInfo.processInfo.environment))
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await database.run() }          // or add it to a ServiceGroup
///     let rows = try await database.query("SELECT v FROM kv WHERE k = \(42)")
///     await database.shutdown()
/// }
/// ```
///
/// A statement that finds its pooled connection already ended by the server (a restart,
/// `pg_terminate_backend`) before anything was sent is retried on another connection; one that
/// fails after it was sent is not retried, since it may have run.
public final class PostgresDatabase: SQLPipelining, SQLBulkLoading, Service {
    /// The pool of connections.
    public let pool: ConnectionPool<PostgresConnectionSource, ContinuousClock>
    /// How many connections a statement may find already ended before it gives up: every pooled
    /// one, plus a fresh one.
    private let maxAttempts: Int
    /// Carries ``query(_:)`` and ``execute(_:)`` when ``PostgresConfiguration/multiplexedConnections`` is above 0.
    @usableFromInline let multiplexer: PostgresMultiplexer?

    /// PostgreSQL's dialect.
    public var dialect: SQLDialect { .postgres }

    /// The executor on which a task's queries run with no thread hop (see
    /// ``PostgresConnection/taskExecutor``): `withTaskExecutorPreference(database.taskExecutor) { ... }`.
    public var taskExecutor: any TaskExecutor { PostgresConnection.taskExecutor }

    /// A database over a new pool.
    ///
    /// #### Errors
    /// `PoolConfigurationError` when `pool` is out of range.
    public init(
        configuration: PostgresConfiguration, pool: PoolConfiguration = PoolConfiguration()
    ) throws(PoolConfigurationError) {
        self.pool = try ConnectionPool(
            source: PostgresConnectionSource(configuration: configuration, poolName: pool.name, metricsFactory: pool.metricsFactory),
            configuration: pool)
        maxAttempts = pool.maxConnections + pool.maxOverflow + 1
        multiplexer =
            configuration.multiplexedConnections > 0
            ? PostgresMultiplexer(laneCount: min(configuration.multiplexedConnections, pool.maxConnections), pool: self.pool)
            : nil
    }

    /// Runs the pool (opens connections, maintenance) until ``shutdown()`` or cancellation.
    public func run() async throws {
        try await pool.run()
    }

    /// Closes the pool: waits for leased connections, then closes every connection.
    public func shutdown() async {
        await pool.shutdown()
    }

    /// Runs a statement on a pooled connection and returns the rows it affected.
    ///
    /// #### Errors
    /// ``PostgresError``, `PoolError`, or `CancellationError`.
    @discardableResult
    public func execute(_ statement: SQLStatement) async throws -> Int {
        if let multiplexer { return try await multiplexed(statement, on: multiplexer).affected }
        return try await withRetry { try await $0.execute(statement) }
    }

    /// Runs a statement on a pooled connection and returns its rows.
    ///
    /// #### Errors
    /// As ``execute(_:)``.
    public func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        if let multiplexer { return try await multiplexed(statement, on: multiplexer).rows }
        return try await withRetry { try await $0.query(statement) }
    }

    /// Runs a statement on a pooled connection and returns `decode`'s value for each of its rows,
    /// decoded where libpq holds them; see ``PostgresConnection/query(_:rowsAs:)``.
    ///
    /// With ``PostgresConfiguration/multiplexedConnections``, `decode` runs on the task that
    /// serves the connection, so it must be `@Sendable`; it should do nothing but decode.
    ///
    /// #### Errors
    /// As ``execute(_:)``, or the first error `decode` throws.
    @inlinable
    public func query<Row: Sendable>(
        _ statement: SQLStatement, rowsAs decode: @escaping @Sendable (borrowing PostgresRowView) throws -> Row
    ) async throws -> [Row] {
        guard let multiplexer else {
            // A pooled connection visits the rows on this task, which collects them itself.
            var rows: [Row] = []
            try await visitPooledRows(of: statement) { rows.append(try decode($0)) }
            return rows
        }
        let collected = PostgresCollectedRows<Row>()
        try await visitMultiplexedRows(of: statement, on: multiplexer) { row in collected.rows.append(try decode(row)) }
        return collected.rows
    }

    /// Runs a statement on a pooled connection and calls `visit` with each of its rows; a core of
    /// ``query(_:rowsAs:)``, not generic, so that it runs specialized whatever the rows become.
    @usableFromInline
    func visitPooledRows(of statement: SQLStatement, _ visit: (borrowing PostgresRowView) throws -> Void) async throws {
        try await withRetry { try await $0.visitRows(of: statement, visit) }
    }

    /// Runs a statement on the multiplexed connections and calls `visit` with each of its rows, on
    /// the task that serves the connection; the other core of ``query(_:rowsAs:)``.
    @usableFromInline
    func visitMultiplexedRows(
        of statement: SQLStatement, on multiplexer: PostgresMultiplexer,
        _ visit: @escaping @Sendable (borrowing PostgresRowView) throws -> Void
    ) async throws {
        _ = try await multiplexed(statement, on: multiplexer, visitRow: visit)
    }

    /// Runs `statement` on the multiplexed connections, observed as a pooled connection's are.
    private func multiplexed(
        _ statement: SQLStatement, on multiplexer: PostgresMultiplexer,
        visitRow: (@Sendable (borrowing PostgresRowView) throws -> Void)? = nil
    ) async throws -> PostgresMultiplexedStatement.Outcome {
        let rendered = try statement.render(for: .postgres)
        return try await pool.source.observer.observe(sql: { rendered.sql }) { try await multiplexer.run(rendered, visitRow: visitRow) }
    }

    /// Runs `body` in a transaction on one pooled connection.
    ///
    /// #### Errors
    /// As `SQLTransactionScope.run(depth:execute:body:)`.
    @discardableResult
    public func transaction<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await withConnection { try await $0.transaction(body) }
    }

    /// Sends `statements` in one round trip on one connection; see
    /// ``PostgresConnection/executeBatch(_:)``.
    public func executeBatch(_ statements: [SQLStatement]) async throws -> [Int] {
        try await withRetry { try await $0.executeBatch(statements) }
    }

    /// Sends `statements` in one round trip on one connection and returns each one's rows; see
    /// ``PostgresConnection/queryPipelined(_:)``.
    public func queryPipelined(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        try await withRetry { try await $0.queryPipelined(statements) }
    }

    /// Loads rows with `COPY FROM STDIN`; see ``PostgresConnection/copy(into:columns:rows:)``.
    public func copy(into table: String, columns: [String], rows: some Sequence<[SQLValue]> & Sendable) async throws -> Int {
        try await withRetry { try await $0.copy(into: table, columns: columns, rows: rows) }
    }

    /// Calls `body` with each row as it arrives; see ``PostgresConnection/forEachRow(_:_:)``.
    public func forEachRow(_ statement: SQLStatement, _ body: (SQLRow) async throws -> Void) async throws {
        try await withRetry { try await $0.forEachRow(statement, body) }
    }

    /// Runs `body` with a pooled connection (one task at a time uses it), then returns it to the pool.
    ///
    /// #### Errors
    /// `PoolError`, `CancellationError`, or whatever `body` throws.
    @inlinable
    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await pool.withConnection { try await body($0) }
    }

    /// Runs one statement's `body` with a pooled connection, retrying on another connection when
    /// the first one turns out to have been ended by the server before anything was sent.
    ///
    /// Always inlined: the pool's generic code is then specialized for each concrete result type
    /// (called through a generic `Result`, it would look up type metadata on every query).
    @inline(__always)
    private func withRetry<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        var attempts = 0
        while true {
            do {
                return try await pool.withConnection { try await body($0) }
            } catch let error as PostgresError where error.code == .connectionBeforeSend {
                attempts += 1
                if attempts >= maxAttempts { throw error }
            }
        }
    }
}
