import CKeelIO
import CLibPQ
import Foundation
import KeelCore
import Logging
import CoreMetrics
public import SQLCore
import Synchronization

/// One PostgreSQL connection, driven by libpq in non-blocking mode.
///
/// Statements are sent with non-blocking libpq calls on the calling task's thread; waiting for the
/// socket happens in the `SocketReactor`, so no cooperative thread ever blocks on the network.
/// Connecting and cancel requests (which libpq can only do blocking) run on threads of their own.
///
/// A connection runs one statement at a time; the pool hands it to one task at a time. Using it
/// from two tasks at once fails with a ``PostgresError`` (client) rather than corrupting it.
///
/// Cancelling the task of a running statement sends a cancel request to the server, waits for the
/// statement to end and throws `CancellationError`; the connection stays usable.
public final class PostgresConnection: SQLPipelining, SQLBulkLoading, @unchecked Sendable {
    // @unchecked: `handle` and `statements` are used only by the task that holds `inUse`; every
    // other field is immutable or synchronised.

    /// PostgreSQL's dialect.
    public let dialect = SQLDialect.postgres

    let handle: OpaquePointer
    private let slot: SocketSlot
    private let cancelHandle: OpaquePointer?
    private let reactor: SocketReactor
    private let notices: PostgresNoticeSink
    private var statements: PostgresStatementCache
    /// Set when a message was just sent and nothing was read since: the socket held nothing unread
    /// (the previous answer was read to its end), so the first wait needs no check of the socket.
    private var awaitingFirstAnswer = false
    private let inUse = Atomic<Bool>(false)
    private let lost = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)
    /// How many round trips the connection has begun: a caller that finds it unchanged after a
    /// failure knows nothing of its own reached the server.
    let roundTripsBegun = Atomic<Int>(0)
    /// The furthest write-ahead log position this connection saw its server (a standby) replay,
    /// for ``PostgresCluster``'s reads; 0 before any look.
    let replayedPosition = Atomic<UInt64>(0)
    private let cancellation = Locked(CancelState())

    private let queryTimeout: Duration?
    private let cancelGracePeriod: Duration
    /// Spans, the statement timer and the slow-statement log of the public statement calls.
    private let observer: StatementObserver

    private struct CancelState {
        /// Numbers the statement round trips, so a late timer cannot touch a later statement.
        var roundTripNumber: UInt64 = 0
        var running = false
        var requested = false
        var sending = false
        var waiter: UnsafeContinuation<Void, Never>?
        /// The round trip ran out of time: the connection was abandoned.
        var timedOut = false
        /// The socket was shut down under a waiting statement; the connection is lost.
        var abandoned = false
        /// The connection was closed; a cancel request still being sent frees the handle.
        var finished = false
        var freeCancelHandleWhenSent = false
        /// Abandons the connection if the cancelled statement does not end in time.
        var graceTimer: Task<Void, Never>?
    }

    private init(
        handle: OpaquePointer, configuration: PostgresConfiguration, reactor: SocketReactor, observer: StatementObserver
    ) throws(PostgresError) {
        switch reactor.add(PQsocket(handle)) {
        case .success(let added): slot = added
        case .failure(let error): throw .connection("cannot watch the socket: \(error)")
        }
        self.handle = handle
        cancelHandle = PQgetCancel(handle)
        self.reactor = reactor
        statements = PostgresStatementCache(
            capacity: configuration.pgBouncerTransactionMode ? 0 : configuration.statementCacheCapacity)
        queryTimeout = configuration.queryTimeout
        cancelGracePeriod = configuration.cancelGracePeriod
        self.observer = observer
        notices = PostgresNoticeSink(logger: configuration.logger)
        PQsetNoticeReceiver(handle, PostgresNoticeSink.receiver, Unmanaged.passUnretained(notices).toOpaque())
    }

    deinit {
        if !closed.load(ordering: .relaxed) { releaseResources() }
    }

    /// Opens a connection.
    ///
    /// libpq's connect (name resolution, TCP, TLS, authentication) runs on a thread of its own with
    /// `PQconnectStartParams` and `PQconnectPoll`, bounded by `timeout`; the session is then set to
    /// `DateStyle=ISO` (and `statement_timeout`, when configured), ``PostgresConfiguration/setupSQL``
    /// runs on that thread too (the simple protocol: nothing is prepared), and the connection is
    /// switched to non-blocking mode; then ``PostgresConfiguration/onConnect`` runs on it.
    ///
    /// #### Errors
    /// ``PostgresError`` with code ``PostgresError/Code/connection`` when the server cannot be
    /// reached or refuses the login; ``PostgresError/Code/timeout`` when `timeout` or the
    /// connection string's `connect_timeout` (the shorter) runs out, naming the server;
    /// ``PostgresError/Code/client`` when
    /// ``PostgresConfiguration/statementTimeout`` is set in
    /// ``PostgresConfiguration/pgBouncerTransactionMode``.
    ///
    /// Its statements' durations go to the `keel_sql_statement_duration` timer of
    /// `MetricsSystem.factory` with the `pool` dimension `standalone`; a pool's connections use
    /// their pool's name and factory (``PostgresConnectionSource``).
    public static func connect(
        configuration: PostgresConfiguration, timeout: Duration = .seconds(30)
    ) async throws(PostgresError) -> PostgresConnection {
        try await connect(
            configuration: configuration, timeout: timeout,
            observer: Self.observer(for: configuration, poolName: "standalone", metricsFactory: MetricsSystem.factory))
    }

    /// The statement observer of a connection opened with `configuration` for the pool `poolName`.
    static func observer(
        for configuration: PostgresConfiguration, poolName: String, metricsFactory: (any MetricsFactory)?
    ) -> StatementObserver {
        StatementObserver(
            system: "postgresql", poolName: poolName, factory: metricsFactory,
            slowThreshold: configuration.slowStatementThreshold, slowLogLevel: configuration.slowStatementLogLevel,
            logger: configuration.logger)
    }

    static func connect(
        configuration: PostgresConfiguration, timeout: Duration, observer: StatementObserver
    ) async throws(PostgresError) -> PostgresConnection {
        if configuration.pgBouncerTransactionMode && configuration.statementTimeout != nil {
            throw .client(
                "statementTimeout is a session setting, which pgBouncerTransactionMode does not keep: set statement_timeout on the role (ALTER ROLE ... SET statement_timeout) or PgBouncer's query_timeout, or use queryTimeout")
        }
        let outcome = await BlockingThread.run(name: "keel-postgres-connect") { () -> Result<UnsafeSendableHandle, PostgresError> in
            openBlocking(configuration: configuration, timeout: timeout)
        }
        let handle = try outcome.get().handle
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection(handle: handle, configuration: configuration, reactor: .shared, observer: observer)
        } catch {
            PQfinish(handle)
            throw error
        }
        do {
            try await configuration.onConnect?(connection)
        } catch {
            connection.close()
            if let error = error as? PostgresError { throw error }
            throw .connection("the connection's set-up (onConnect) failed: \(error)")
        }
        return connection
    }

    private static func openBlocking(
        configuration: PostgresConfiguration, timeout: Duration
    ) -> Result<UnsafeSendableHandle, PostgresError> {
        // libpq enforces connect_timeout only in its blocking connect: here it is applied to the
        // whole attempt, as the pool's connect timeout is.
        let limit = configuration.connectTimeout.map { min($0, timeout) } ?? timeout
        let limitName = limit < timeout ? "connect_timeout" : "the connect timeout"
        let deadline = ContinuousClock.now.advanced(by: limit)
        var generator = SystemRandomNumberGenerator()
        let (keywords, values, expand) = configuration.connectionParameters(using: &generator)
        let handle = withCStrings(keywords) { keywords in
            withCStrings(values) { values in PQconnectStartParams(keywords, values, expand ? 1 : 0) }
        }
        guard let handle else { return .failure(.connection("out of memory")) }
        func fail(_ message: String) -> Result<UnsafeSendableHandle, PostgresError> {
            PQfinish(handle)
            return .failure(.connection(message))
        }
        guard PQstatus(handle) != CONNECTION_BAD else { return fail(errorMessage(of: handle)) }
        var state = PGRES_POLLING_WRITING
        while state != PGRES_POLLING_OK {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else {
                PQfinish(handle)
                return .failure(PostgresError(
                    code: .timeout,
                    message: "connecting to \(configuration.serverNames) took longer than \(limit) (\(limitName)): the server accepted no session in time"))
            }
            switch state {
            case PGRES_POLLING_FAILED:
                return fail(errorMessage(of: handle))
            case PGRES_POLLING_READING, PGRES_POLLING_WRITING:
                let ready = keel_poll_wait(
                    PQsocket(handle), state == PGRES_POLLING_WRITING ? 1 : 0, Int32(clamping: remaining.inNanoseconds / 1_000_000 + 1))
                if ready < 0 && ready != -EINTR { return fail("waiting for the server failed (errno \(-ready))") }
                if ready == 0 { continue }
            default:
                break
            }
            state = PQconnectPoll(handle)
        }
        var setup = "SET DateStyle = 'ISO'"
        if let statementTimeout = configuration.statementTimeout {
            setup += "; SET statement_timeout = \(max(statementTimeout.inNanoseconds / 1_000_000, 1))"
        }
        for sql in [setup] + configuration.setupSQL {
            guard let result = PQexec(handle, sql) else { return fail(errorMessage(of: handle)) }
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
                let error = serverError(of: result, binds: [])
                PQfinish(handle)
                return .failure(error)
            }
        }
        guard PQsetnonblocking(handle, 1) == 0 else { return fail(errorMessage(of: handle)) }
        return .success(UnsafeSendableHandle(handle: handle))
    }

    /// Closes the connection (sends Terminate without waiting). Further use fails.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        releaseResources()
    }

    /// Leaves the reactor, frees the cancel handle (once no cancel request is being sent) and
    /// finishes the libpq connection.
    private func releaseResources() {
        // Finished first: a timeout's `expire` then no longer shuts the slot's socket down, whose
        // number `remove` frees.
        let freeCancelHandle = cancellation.withLock { state in
            state.finished = true
            state.freeCancelHandleWhenSent = state.sending
            return !state.sending
        }
        reactor.remove(slot)
        if freeCancelHandle, let cancelHandle { PQfreeCancel(cancelHandle) }
        PQfinish(handle)
    }

    // MARK: State

    /// Whether the connection was lost or left unusable; the pool discards such connections.
    public var isBroken: Bool {
        lost.load(ordering: .relaxed) || closed.load(ordering: .relaxed) || PQstatus(handle) != CONNECTION_OK
    }

    /// Marks the connection unusable, so that its pool closes it rather than hand it out again.
    func discard() {
        lost.store(true, ordering: .relaxed)
    }

    /// Whether the session is idle outside a transaction.
    var isIdle: Bool { PQtransactionStatus(handle) == PQTRANS_IDLE }

    /// Whether a transaction is open (or failed) and waiting for a COMMIT or ROLLBACK.
    var isInTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// How many times, since the process started, a task waiting for any socket was resumed by
    /// the reactor (KeelCore's, which also serves Redis connections): for a task on Swift's global executor each is two thread hops
    /// (cooperative thread → reactor thread → cooperative thread), for a task that prefers
    /// ``taskExecutor`` none. Divide by a run's statements to get the wake-ups per statement.
    public static var reactorWakeups: Int { SocketReactor.shared.resumedWaits }

    /// How many times the reactor resumed a task waiting for this connection's socket: the
    /// process-wide ``reactorWakeups`` of this connection alone, unaffected by other connections.
    public var reactorWakeups: Int { slot.resumedWaits }

    /// The executor of the thread that waits for every PostgreSQL (and Redis) socket.
    ///
    /// A task that prefers it runs between the reactor's waits, so a query's answer resumes it on
    /// the same thread, with no thread hop and no wake-up:
    ///
    /// ```swift
    /// try await withTaskExecutorPreference(PostgresConnection.taskExecutor) {
    ///     try await database.query("SELECT v FROM kv WHERE k = \(key)")
    /// }
    /// ```
    ///
    /// It is one thread: a task that prefers it must not compute for long between its queries,
    /// since every PostgreSQL connection of the process waits meanwhile (as on a SwiftNIO event loop).
    public static var taskExecutor: any TaskExecutor { SocketReactor.shared }

    /// The number of prepared statements cached now.
    public var preparedStatementCount: Int { statements.count }

    // MARK: SQLDatabase

    /// Runs a statement and returns the rows it affected.
    ///
    /// #### Errors
    /// ``PostgresError``; `CancellationError` when the task was cancelled (the statement is
    /// cancelled on the server too).
    @discardableResult
    public func execute(_ statement: SQLStatement) async throws -> Int {
        let rendered = try statement.render(for: dialect)
        return try await observer.observe(sql: { rendered.sql }) { try await run(rendered, cancellable: true).affected }
    }

    /// Runs a statement and returns its rows.
    ///
    /// #### Errors
    /// As ``execute(_:)``.
    public func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        let rendered = try statement.render(for: dialect)
        return try await observer.observe(sql: { rendered.sql }) { try await run(rendered, cancellable: true).rows }
    }

    /// Waits for the next notification of a channel this connection `LISTEN`s to (with
    /// `execute("LISTEN \(identifier: channel)")`), returning at once one that arrived meanwhile.
    ///
    /// #### Errors
    /// ``PostgresError`` with code ``PostgresError/Code/connection`` when the connection is lost;
    /// `CancellationError` when the task is cancelled, after which the connection takes no more
    /// statements (close it).
    public func nextNotification() async throws -> PostgresNotification {
        try await exclusively {
            try await withTaskCancellationHandler {
                while true {
                    if let notification = takeNotification() { return notification }
                    if Task.isCancelled || slot.interruption != nil {
                        lost.store(true, ordering: .relaxed)
                        throw CancellationError()
                    }
                    // Edge-triggered, as in nextResult(): wait only when the socket has nothing left.
                    if keel_poll_readable_now(slot.socket) != 1 { await reactor.wait(for: .readable, slot) }
                    guard slot.interruption == nil else { continue }
                    guard PQconsumeInput(handle) == 1 else {
                        lost.store(true, ordering: .relaxed)
                        throw connectionError()
                    }
                }
            } onCancel: {
                slot.interrupt()
            }
        }
    }

    /// A notification libpq has read, if any.
    private func takeNotification() -> PostgresNotification? {
        guard let notify = PQnotifies(handle) else { return nil }
        defer { PQfreemem(notify) }
        return PostgresNotification(
            channel: String(cString: notify.pointee.relname), payload: String(cString: notify.pointee.extra),
            senderProcessID: notify.pointee.be_pid)
    }

    /// Runs `body` in a transaction on this connection (a savepoint when nested).
    ///
    /// #### Errors
    /// As `SQLTransactionScope.run(depth:execute:body:)`.
    @discardableResult
    public func transaction<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await transaction(depth: 0, body)
    }

    func transaction<Result: Sendable>(
        depth: Int, _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await SQLTransactionScope.run(depth: depth) { control in
            _ = try await run(SQLRenderedStatement(sql: control, binds: []), cancellable: false)
        } body: {
            try await body(PostgresTransaction(connection: self, depth: depth + 1))
        }
    }

    /// Calls `body` with each row as it arrives (libpq's single-row mode), for results too large
    /// to hold in memory. When `body` throws, the statement is cancelled and the error rethrown.
    ///
    /// #### Errors
    /// As ``execute(_:)``, and whatever `body` throws.
    public func forEachRow(_ statement: SQLStatement, _ body: (SQLRow) async throws -> Void) async throws {
        let rendered = try statement.render(for: dialect)
        try await observer.observe(sql: { rendered.sql }) { try await forEachRow(rendered, body) }
    }

    private func forEachRow(_ rendered: SQLRenderedStatement, _ body: (SQLRow) async throws -> Void) async throws {
        try await exclusively {
            try await roundTrip(cancellable: true, timeout: queryTimeout) {
                let binds = try PostgresBinds(rendered.binds)
                try await send(rendered, binds: binds, singleRow: true)
                var columns: SQLColumns?
                var failure: (any Error)?
                while let result = try await nextResult() {
                    defer { PQclear(result) }
                    let status = PQresultStatus(result)
                    if status == PGRES_SINGLE_TUPLE, failure == nil {
                        let names = columns ?? Self.columns(of: result)
                        columns = names
                        do {
                            try await body(Self.row(0, of: result, columns: names))
                        } catch {
                            failure = error
                            requestCancel(cancellation.withLock { $0.roundTripNumber })
                        }
                    } else if status == PGRES_FATAL_ERROR, failure == nil {
                        failure = serverError(result, binds: rendered.binds)
                    }
                }
                if let failure { throw failure }
            }
        }
    }

    /// Sends all `statements` in one round trip (libpq pipeline mode) and returns the rows each
    /// affected. They run in one implicit transaction: when one fails, none takes effect.
    ///
    /// #### Errors
    /// The first statement's ``PostgresError``; `CancellationError` when cancelled.
    public func executeBatch(_ statements: [SQLStatement]) async throws -> [Int] {
        try await pipeline(statements).map(\.affected)
    }

    /// Sends all `statements` in one round trip (libpq pipeline mode) and returns each one's rows.
    /// Outside a transaction they run in one implicit transaction; when one fails, none takes effect.
    ///
    /// #### Errors
    /// As ``executeBatch(_:)``.
    public func queryPipelined(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        try await pipeline(statements).map(\.rows)
    }

    private func pipeline(_ batch: [SQLStatement]) async throws -> [(rows: [SQLRow], affected: Int)] {
        let rendered = try batch.map { try $0.render(for: dialect) }
        let binds = try rendered.map { try PostgresBinds($0.binds) }
        return try await observer.observe(operation: "BATCH", batchSize: batch.count, sql: { rendered.map(\.sql).joined(separator: ";\n") }) {
            try await pipeline(rendered, binds: binds)
        }
    }

    private func pipeline(
        _ rendered: [SQLRenderedStatement], binds: [PostgresBinds]
    ) async throws -> [(rows: [SQLRow], affected: Int)] {
        try await exclusively {
            try await roundTrip(cancellable: true, timeout: queryTimeout) {
                try checkAliveBeforeSend()
                // Statements are prepared first (once per SQL text and connection, outside the
                // pipeline), so a batch of chunks sharing one SQL text is parsed and planned once.
                // More distinct texts than the cache holds would evict each other: those run unnamed.
                var names: [String?] = Array(repeating: nil, count: rendered.count)
                let distinct = Set(zip(rendered, binds).map { PostgresStatementCache.Key(sql: $0.sql, types: $1.types) })
                if distinct.count <= statements.capacity {
                    for index in rendered.indices {
                        names[index] = try await preparedName(of: rendered[index], binds: binds[index])
                    }
                }
                guard PQenterPipelineMode(handle) == 1 else { throw connectionError() }
                defer { PQexitPipelineMode(handle) }
                for ((statement, binds), name) in zip(zip(rendered, binds), names) {
                    try sendMessage {
                        binds.withParameters { count, types, values, lengths, formats in
                            if let name {
                                PQsendQueryPrepared(handle, name, count, values, lengths, formats, 0)
                            } else {
                                PQsendQueryParams(handle, statement.sql, count, types, values, lengths, formats, 0)
                            }
                        }
                    }
                }
                try sendMessage { PQpipelineSync(handle) }
                try await flush()
                var outcomes: [(rows: [SQLRow], affected: Int)] = []
                outcomes.reserveCapacity(rendered.count)
                var failure: PostgresError?
                for statement in rendered {
                    var rows: [SQLRow] = []
                    var affected = 0
                    while let result = try await nextResult() {
                        switch PQresultStatus(result) {
                        case PGRES_TUPLES_OK:
                            rows = Self.rows(of: result)
                            affected = Self.affectedRows(result)
                        case PGRES_COMMAND_OK: affected = Self.affectedRows(result)
                        case PGRES_FATAL_ERROR: failure = failure ?? serverError(result, binds: statement.binds)
                        default: break
                        }
                        PQclear(result)
                    }
                    outcomes.append((rows, affected))
                }
                // The sync's own result, then the NULL that ends it.
                while let result = try await nextResult() {
                    let status = PQresultStatus(result)
                    PQclear(result)
                    if status == PGRES_PIPELINE_SYNC { break }
                }
                if let failure { throw failure }
                return outcomes
            }
        }
    }

    /// Loads rows with `COPY table (columns) FROM STDIN` and returns how many were copied.
    ///
    /// Values are streamed in COPY's text format as they are read from `rows`; each row must have
    /// one value per column. The fastest way to load many rows.
    ///
    /// #### Errors
    /// ``PostgresError`` (nothing is loaded then); `CancellationError` when cancelled (the copy is
    /// aborted, nothing is loaded).
    public func copy(
        into table: String, columns: [String], rows: some Sequence<[SQLValue]>
    ) async throws -> Int {
        let sql = try "COPY \(dialect.quoteIdentifier(table)) (\(columns.map { try dialect.quoteIdentifier($0) }.joined(separator: ", "))) FROM STDIN"
        return try await observer.observe(operation: "COPY", sql: { sql }) { try await copy(sql, columnCount: columns.count, rows: rows) }
    }

    private func copy(_ sql: String, columnCount: Int, rows: some Sequence<[SQLValue]>) async throws -> Int {
        try await exclusively {
            try await roundTrip(cancellable: true, timeout: queryTimeout) {
                try checkAliveBeforeSend()
                try sendMessage { PQsendQueryParams(handle, sql, 0, nil, nil, nil, nil, 0) }
                try await flush()
                guard let started = try await nextResult() else { throw PostgresError.connection("COPY did not start") }
                let status = PQresultStatus(started)
                if status != PGRES_COPY_IN {
                    let error = status == PGRES_FATAL_ERROR ? serverError(started, binds: []) : .connection("COPY did not start")
                    PQclear(started)
                    _ = try await drainResults(binds: [])
                    throw error
                }
                PQclear(started)
                var encoder = PostgresCopyEncoder()
                do {
                    for row in rows {
                        guard row.count == columnCount else {
                            throw PostgresError.client("a COPY row has \(row.count) values for \(columnCount) columns")
                        }
                        try encoder.append(row)
                        if encoder.buffer.count >= 1 << 16 {
                            try await putCopyData(encoder.buffer)
                            encoder.buffer.removeAll(keepingCapacity: true)
                        }
                        if Task.isCancelled { throw CancellationError() }
                    }
                    if !encoder.buffer.isEmpty { try await putCopyData(encoder.buffer) }
                } catch let error as PostgresError where error.code == .connection {
                    throw error
                } catch {
                    try await endCopy(abort: "\(type(of: error))")
                    _ = try await drainResults(binds: [])
                    throw error
                }
                try await endCopy(abort: nil)
                let outcome = try await drainResults(binds: [])
                if let failure = outcome.failure { throw failure }
                return outcome.affected
            }
        }
    }

    // MARK: Running statements

    /// Runs one statement and collects its rows and row count.
    ///
    /// `timeout` defaults to the configuration's ``PostgresConfiguration/queryTimeout``.
    func run(
        _ rendered: SQLRenderedStatement, cancellable isCancellable: Bool, timeout: Duration? = nil
    ) async throws -> (rows: [SQLRow], affected: Int) {
        let binds = try PostgresBinds(rendered.binds)
        return try await exclusively {
            try await roundTrip(cancellable: isCancellable, timeout: timeout ?? queryTimeout) {
                try await send(rendered, binds: binds, singleRow: false)
                var rows: [SQLRow] = []
                var affected = 0
                var failure: PostgresError?
                while let result = try await nextResult() {
                    defer { PQclear(result) }
                    switch PQresultStatus(result) {
                    case PGRES_TUPLES_OK:
                        rows = Self.rows(of: result)
                        affected = Self.affectedRows(result)
                    case PGRES_COMMAND_OK:
                        affected = Self.affectedRows(result)
                    case PGRES_EMPTY_QUERY:
                        break
                    case PGRES_COPY_IN:
                        failure = failure ?? .client("COPY FROM cannot run through execute or query: use copy(into:columns:rows:)")
                        try await endCopy(abort: "not supported here")
                    case PGRES_COPY_OUT, PGRES_COPY_BOTH:
                        // libpq stays in COPY mode until the data is read: the connection is given up.
                        lost.store(true, ordering: .relaxed)
                        throw PostgresError.client("COPY TO cannot run through execute or query; the connection was discarded")
                    case PGRES_FATAL_ERROR, PGRES_BAD_RESPONSE, PGRES_NONFATAL_ERROR:
                        failure = failure ?? serverError(result, binds: rendered.binds)
                    default:
                        break
                    }
                }
                if let failure { throw failure }
                return (rows, affected)
            }
        }
    }

    /// Runs `body` as the connection's only user.
    private func exclusively<Result>(_ body: () async throws -> Result) async throws -> Result {
        guard !closed.load(ordering: .relaxed) else { throw PostgresError.client("the connection is closed") }
        guard inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            throw PostgresError.client("the connection is already running a statement: use one connection per task")
        }
        defer { inUse.store(false, ordering: .releasing) }
        return try await body()
    }

    /// Runs one round trip of statements with the server.
    ///
    /// When `isCancellable`, a task cancellation sends a cancel request, and a statement the server
    /// cancelled ends in `CancellationError`; a statement still running ``PostgresConfiguration/cancelGracePeriod``
    /// after the request (the server or network does not answer) has its connection abandoned.
    /// When the round trip runs past `timeout`, a cancel request is sent and the connection is
    /// abandoned at once: the caller gets a ``PostgresError/Code/timeout`` error on time.
    private func roundTrip<Result>(
        cancellable isCancellable: Bool, timeout: Duration?, _ body: () async throws -> Result
    ) async throws -> Result {
        if isCancellable { try Task.checkCancellation() }
        roundTripsBegun.add(1, ordering: .relaxed)
        let number = cancellation.withLock { state in
            state.roundTripNumber &+= 1
            state.running = true
            state.requested = false
            return state.roundTripNumber
        }
        let timer = timeout.map { timeout in
            Task { [self] in
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                expire(number, timedOut: true)
            }
        }
        let outcome: Swift.Result<Result, any Error>
        do {
            if isCancellable {
                outcome = .success(
                    try await withTaskCancellationHandler { try await body() } onCancel: { self.requestCancel(number) })
            } else {
                outcome = .success(try await body())
            }
        } catch {
            outcome = .failure(error)
        }
        timer?.cancel()
        let (requested, timedOut) = await statementEnded()
        if case .failure = outcome {
            if timedOut, let timeout {
                throw PostgresError(
                    code: .timeout,
                    message: "the statement did not finish within \(timeout); a cancel request was sent and the connection closed")
            }
            if requested, case .failure(let error as PostgresError) = outcome, error.isQueryCanceled || error.code == .connection {
                throw CancellationError()
            }
        }
        return try outcome.get()
    }

    /// Sends a cancel request for round trip `number` from a thread of its own (libpq's `PQcancel`
    /// blocks until the server took it), and abandons the connection when the statement has not
    /// ended a grace period later.
    private func requestCancel(_ number: UInt64) {
        guard sendCancelRequest(for: number) else { return }
        let grace = cancelGracePeriod
        let timer = Task { [self] in
            guard (try? await Task.sleep(for: grace)) != nil else { return }
            expire(number, timedOut: false)
        }
        let ended = cancellation.withLock { state -> Bool in
            guard state.running, state.roundTripNumber == number else { return true }
            state.graceTimer = timer
            return false
        }
        if ended { timer.cancel() }
    }

    /// Starts sending a cancel request when round trip `number` runs and none was sent; `true` when sent.
    @discardableResult
    private func sendCancelRequest(for number: UInt64) -> Bool {
        let send = cancellation.withLock { state -> Bool in
            guard state.running, state.roundTripNumber == number, !state.requested, !state.finished else { return false }
            state.requested = true
            state.sending = true
            return true
        }
        guard send, let cancelHandle else { return false }
        let handle = UnsafeSendableHandle(handle: cancelHandle)
        BlockingThread.start(name: "keel-postgres-cancel") { [self] in
            var message = [CChar](repeating: 0, count: 256)
            _ = PQcancel(handle.handle, &message, 256)
            let (waiter, free) = cancellation.withLock { state in
                state.sending = false
                defer { state.waiter = nil }
                return (state.waiter, state.freeCancelHandleWhenSent)
            }
            if free { PQfreeCancel(handle.handle) }
            waiter?.resume()
        }
        return true
    }

    /// Gives up on round trip `number` if it still runs: sends a cancel request (so the server
    /// stops the work), shuts the socket down and wakes the waiting statement, which then fails
    /// with a connection error. The connection is lost; the pool discards it.
    private func expire(_ number: UInt64, timedOut: Bool) {
        let abandoned = cancellation.withLock { state -> Bool in
            guard state.running, state.roundTripNumber == number, !state.abandoned, !state.finished else { return false }
            state.abandoned = true
            if timedOut { state.timedOut = true }
            lost.store(true, ordering: .relaxed)
            // Under the lock, so `releaseResources()` cannot close (and the number be reused) meanwhile.
            keel_shutdown(slot.socket)
            return true
        }
        guard abandoned else { return }
        // Woken here, not only by the reactor's report of the shutdown: the deadline holds even
        // if the socket's readiness is never reported.
        slot.deliver(SocketSlot.failure)?.resume()
        if timedOut { sendCancelRequest(for: number) }
    }

    /// Marks the statement ended, first waiting for a cancel request in flight so that it cannot
    /// reach the next statement (unless the connection was abandoned: it runs no next statement).
    /// Returns whether a cancel was requested and whether the round trip timed out.
    private func statementEnded() async -> (requested: Bool, timedOut: Bool) {
        let (requested, sending, timedOut, abandoned, graceTimer) = cancellation.withLock { state in
            state.running = false
            defer {
                state.timedOut = false
                state.graceTimer = nil
            }
            return (state.requested, state.sending, state.timedOut, state.abandoned, state.graceTimer)
        }
        graceTimer?.cancel()
        if sending && !abandoned {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                let stillSending = cancellation.withLock { state in
                    if state.sending { state.waiter = continuation }
                    return state.sending
                }
                if !stillSending { continuation.resume() }
            }
        }
        return (requested, timedOut)
    }

    /// Sends a statement: prepared (and cached) when the cache is on, unnamed otherwise.
    private func send(_ rendered: SQLRenderedStatement, binds: PostgresBinds, singleRow: Bool) async throws {
        try checkAliveBeforeSend()
        if let name = try await preparedName(of: rendered, binds: binds) {
            try sendMessage {
                binds.withParameters { count, _, values, lengths, formats in
                    PQsendQueryPrepared(handle, name, count, values, lengths, formats, 0)
                }
            }
        } else {
            try sendMessage {
                binds.withParameters { count, types, values, lengths, formats in
                    PQsendQueryParams(handle, rendered.sql, count, types, values, lengths, formats, 0)
                }
            }
        }
        if singleRow { PQsetSingleRowMode(handle) }
        try await flush()
    }

    /// The name of the statement prepared for `rendered`'s SQL and bind types, prepared now (one
    /// round trip) when the cache does not hold it yet; `nil` when the statement cache is off.
    private func preparedName(of rendered: SQLRenderedStatement, binds: PostgresBinds) async throws -> String? {
        guard statements.capacity > 0 else { return nil }
        let key = PostgresStatementCache.Key(sql: rendered.sql, types: binds.types)
        if let cached = statements.name(for: key) { return cached }
        let (name, evicted) = statements.insert(key)
        do {
            if let evicted { try await command("DEALLOCATE \(evicted)") }
            try sendMessage {
                binds.types.withUnsafeBufferPointer { types in
                    PQsendPrepare(handle, name, rendered.sql, Int32(types.count), types.baseAddress)
                }
            }
            try await flush()
            if let failure = try await drainResults(binds: rendered.binds).failure { throw failure }
        } catch {
            statements.remove(key)
            throw error
        }
        // A cancel request that reached the server between the two messages found it idle and did
        // nothing: stop here rather than run the statement.
        if cancellation.withLock({ $0.requested }) { throw CancellationError() }
        return name
    }

    /// Runs a statement with no binds and no result rows, outside the statement cache.
    private func command(_ sql: String) async throws {
        try sendMessage { PQsendQueryParams(handle, sql, 0, nil, nil, nil, nil, 0) }
        try await flush()
        if let failure = try await drainResults(binds: []).failure { throw failure }
    }

    /// Queues one message with a `PQsend…` call (`send` returns libpq's 1 for success).
    private func sendMessage(_ send: () -> Int32) throws(PostgresError) {
        guard send() == 1 else { throw connectionError() }
        awaitingFirstAnswer = true
    }

    /// Reads a command's results to their end: the rows affected (of the last result) and the
    /// first error, which is returned rather than thrown so the connection is left in step.
    private func drainResults(binds: [SQLValue]) async throws(PostgresError) -> (affected: Int, failure: PostgresError?) {
        var affected = 0
        var failure: PostgresError?
        while let result = try await nextResult() {
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK: affected = Self.affectedRows(result)
            case PGRES_FATAL_ERROR: failure = failure ?? serverError(result, binds: binds)
            default: break
            }
            PQclear(result)
        }
        return (affected, failure)
    }

    /// Fails before sending when the idle connection already heard from the server (it ended the
    /// session, or the socket closed): nothing was sent, so the caller may retry elsewhere.
    private func checkAliveBeforeSend() throws(PostgresError) {
        guard !lost.load(ordering: .relaxed) else { throw beforeSend("the connection was lost") }
        // The reactor saw input or a hang-up while the connection was idle: look closer.
        guard slot.takeReady(SocketSlot.readable) else { return }
        for _ in 0..<2 {
            guard keel_poll_readable_now(slot.socket) == 1 else { break }
            awaitingFirstAnswer = false
            if PQconsumeInput(handle) == 0 || PQstatus(handle) != CONNECTION_OK {
                lost.store(true, ordering: .relaxed)
                throw beforeSend(Self.errorMessage(of: handle))
            }
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            lost.store(true, ordering: .relaxed)
            throw beforeSend(Self.errorMessage(of: handle))
        }
    }

    private func beforeSend(_ message: String) -> PostgresError {
        PostgresError(code: .connectionBeforeSend, message: message)
    }

    /// Sends what libpq has buffered, waiting for the socket as needed (and reading meanwhile,
    /// so a server busy sending results never blocks on us).
    private func flush() async throws(PostgresError) {
        while true {
            let flushed = PQflush(handle)
            if flushed == 0 { return }
            guard flushed > 0 else { throw connectionError() }
            try await waitUntilWritable()
        }
    }

    /// Waits until the socket takes more data, reading what the server sent meanwhile.
    private func waitUntilWritable() async throws(PostgresError) {
        await reactor.wait(for: .writable, slot)
        guard PQconsumeInput(handle) == 1 else { throw connectionError() }
        awaitingFirstAnswer = false
    }

    /// The next result of the statement in progress, waiting for the socket as needed; `nil` when
    /// the statement is done.
    private func nextResult() async throws(PostgresError) -> OpaquePointer? {
        while PQisBusy(handle) != 0 {
            // Edge-triggered: once something was read, wait only when the socket has nothing left
            // (libpq may stop reading before the kernel's buffer is empty, and no new edge comes).
            if awaitingFirstAnswer || keel_poll_readable_now(slot.socket) != 1 {
                await reactor.wait(for: .readable, slot)
            }
            guard PQconsumeInput(handle) == 1 else { throw connectionError() }
            awaitingFirstAnswer = false
        }
        return PQgetResult(handle)
    }

    private func putCopyData(_ buffer: [UInt8]) async throws(PostgresError) {
        while true {
            let put = buffer.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
            }
            if put == 1 { return }
            guard put == 0 else { throw connectionError() }
            try await waitUntilWritable()
        }
    }

    private func endCopy(abort: String?) async throws(PostgresError) {
        while true {
            let ended = PQputCopyEnd(handle, abort)
            if ended == 1 { break }
            guard ended == 0 else { throw connectionError() }
            try await waitUntilWritable()
        }
        try await flush()
    }

    // MARK: Errors and results

    private func connectionError() -> PostgresError {
        lost.store(true, ordering: .relaxed)
        return .connection(Self.errorMessage(of: handle))
    }

    private func serverError(_ result: OpaquePointer, binds: [SQLValue]) -> PostgresError {
        let error = Self.serverError(of: result, binds: binds)
        if error.isConnectionFailure { lost.store(true, ordering: .relaxed) }
        return error
    }

    /// The server's error in `result`: SQLSTATE, severity, message, detail, hint and constraint,
    /// with `binds` redacted from the texts.
    private static func serverError(of result: OpaquePointer, binds: [SQLValue]) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            PQresultErrorField(result, Int32(code)).map { String(cString: $0) }
        }
        let redaction = PostgresBindRedaction(binds: binds)
        let sqlState = field(UInt8(ascii: "C"))
        var hint = redaction.apply(to: field(UInt8(ascii: "H")))
        if sqlState == "26000" || sqlState == "42P05" {
            // A prepared statement missing, or prepared twice under one name: the server
            // connection changed under the session, as behind a pooler in transaction mode.
            hint = (hint.map { $0 + ". " } ?? "")
                + "Behind a pooler in transaction mode (PgBouncer's pool_mode = transaction), set PostgresConfiguration.pgBouncerTransactionMode"
        }
        return PostgresError(
            code: .server, sqlState: sqlState, severity: field(UInt8(ascii: "V")),
            message: redaction.apply(to: field(UInt8(ascii: "M")) ?? "unknown error") ?? "unknown error",
            detail: redaction.apply(to: field(UInt8(ascii: "D"))), hint: hint,
            constraint: field(UInt8(ascii: "n")))
    }

    static func errorMessage(of handle: OpaquePointer) -> String {
        let message = PQerrorMessage(handle).map { String(cString: $0) } ?? ""
        let trimmed = message.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? "the connection failed" : trimmed
    }

    static func affectedRows(_ result: OpaquePointer) -> Int {
        guard let text = PQcmdTuples(result), text.pointee != 0 else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    static func columns(of result: OpaquePointer) -> SQLColumns {
        SQLColumns((0..<PQnfields(result)).map { String(cString: PQfname(result, $0)) })
    }

    static func rows(of result: OpaquePointer) -> [SQLRow] {
        let count = PQntuples(result)
        guard count > 0 else { return [] }
        let columns = columns(of: result)
        var rows: [SQLRow] = []
        rows.reserveCapacity(Int(count))
        for index in 0..<count { rows.append(row(index, of: result, columns: columns)) }
        return rows
    }

    static func row(_ index: Int32, of result: OpaquePointer, columns: SQLColumns) -> SQLRow {
        let fields = Int32(columns.count)
        var values: [SQLValue] = []
        values.reserveCapacity(Int(fields))
        for field in 0..<fields {
            if PQgetisnull(result, index, field) == 1 {
                values.append(.null)
            } else {
                values.append(
                    PostgresTextDecoder.value(
                        type: PQftype(result, field), pointer: PQgetvalue(result, index, field),
                        length: Int(PQgetlength(result, index, field))))
            }
        }
        return SQLRow(columns: columns, values: values)
    }

    private static func withCStrings<Result>(
        _ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result
    ) -> Result {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
