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
    let slot: SocketSlot
    private let cancelHandle: OpaquePointer?
    let reactor: SocketReactor
    /// Whether the socket can hold back partial segments (TCP; a Unix socket cannot): see
    /// `keel_tcp_cork`.
    let corksWrites: Bool
    private let notices: PostgresNoticeSink
    var statements: PostgresStatementCache
    /// Set when a message was just sent and nothing was read since: the socket held nothing unread
    /// (the previous answer was read to its end), so the first wait needs no check of the socket.
    private var awaitingFirstAnswer = false
    private let inUse = Atomic<Bool>(false)
    let lost = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)
    /// How many round trips the connection has begun: a caller that finds it unchanged after a
    /// failure knows nothing of its own reached the server.
    let roundTripsBegun = Atomic<Int>(0)
    /// The furthest write-ahead log position this connection saw its server (a standby) replay,
    /// for ``PostgresCluster``'s reads; 0 before any look.
    let replayedPosition = Atomic<UInt64>(0)
    /// The cancel and timeout state.
    private let state = Locked(PostgresConnectionStateMachine<UnsafeContinuation<Void, Never>, Task<Void, Never>>())

    let queryTimeout: Duration?
    private let cancelGracePeriod: Duration
    /// The clock of the query timeout and the cancel's grace period.
    private let clock: any Clock<Duration>
    /// Spans, the statement timer and the slow-statement log of the public statement calls.
    let observer: StatementObserver

    init(
        handle: OpaquePointer, configuration: PostgresConfiguration, reactor: SocketReactor, observer: StatementObserver
    ) throws(PostgresError) {
        switch reactor.add(PQsocket(handle)) {
        case .success(let added): slot = added
        case .failure(let error): throw .connection("cannot watch the socket: \(error)")
        }
        self.handle = handle
        // Releasing a cork that is not set changes nothing, and fails where there is none.
        corksWrites = keel_tcp_cork(PQsocket(handle), 0) == 0
        cancelHandle = PQgetCancel(handle)
        self.reactor = reactor
        statements = PostgresStatementCache(
            capacity: configuration.pgBouncerTransactionMode ? 0 : configuration.statementCacheCapacity)
        queryTimeout = configuration.queryTimeout
        cancelGracePeriod = configuration.cancelGracePeriod
        clock = configuration.clock
        self.observer = observer
        notices = PostgresNoticeSink(logger: configuration.logger)
        PQsetNoticeReceiver(handle, PostgresNoticeSink.receiver, Unmanaged.passUnretained(notices).toOpaque())
    }

    deinit {
        if !closed.load(ordering: .relaxed) { releaseResources() }
    }

    /// Closes the connection (sends Terminate without waiting). Further use fails.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        releaseResources()
    }

    /// Leaves the reactor, frees the cancel handle (once no cancel request is being sent) and
    /// finishes the libpq connection.
    private func releaseResources() {
        // Closed first: a timeout then no longer shuts the slot's socket down, whose number
        // `remove` frees.
        let freeCancelHandle = state.withLock { $0.close() }
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

    /// Runs a statement and returns `decode`'s value for each of its rows, decoded where libpq
    /// holds them (see ``PostgresRowView``): no `SQLRow` is built, and a column is decoded only when
    /// `decode` reads it.
    ///
    /// ```swift
    /// let names = try await connection.query("SELECT name FROM tokens") { try $0.decode(String.self, "name") }
    /// ```
    ///
    /// #### Errors
    /// As ``execute(_:)``, or the first error `decode` throws (no row is decoded after it; the
    /// connection reads the rest of the result and stays usable).
    @inlinable
    public func query<Row>(_ statement: SQLStatement, rowsAs decode: (borrowing PostgresRowView) throws -> Row) async throws -> [Row] {
        var rows: [Row] = []
        try await visitRows(of: statement) { rows.append(try decode($0)) }
        return rows
    }

    /// Runs a statement and calls `visit` with each of its rows; the core of ``query(_:rowsAs:)``,
    /// not generic, so that it runs specialized whatever the rows become.
    @usableFromInline
    func visitRows(of statement: SQLStatement, _ visit: (borrowing PostgresRowView) throws -> Void) async throws {
        let rendered = try statement.render(for: dialect)
        try await observer.observe(sql: { rendered.sql }) {
            try await withoutActuallyEscaping(visit) { visit in
                _ = try await run(rendered, cancellable: true, visitRow: visit)
            }
        }
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

    // MARK: Running statements

    /// Runs one statement and collects its rows and row count.
    ///
    /// `timeout` defaults to the configuration's ``PostgresConfiguration/queryTimeout``.
    /// With `visitRow`, each row is given to it in place of being collected.
    func run(
        _ rendered: SQLRenderedStatement, cancellable isCancellable: Bool, timeout: Duration? = nil,
        visitRow: ((borrowing PostgresRowView) throws -> Void)? = nil
    ) async throws -> (rows: [SQLRow], affected: Int) {
        let binds = try PostgresBinds(rendered.binds)
        return try await exclusively {
            try await roundTrip(cancellable: isCancellable, timeout: timeout ?? queryTimeout) {
                let prepared = try await send(rendered, binds: binds, singleRow: false)
                var reader = PostgresResultReader(binds: rendered.binds, columns: prepared?.columns, visitRow: visitRow)
                defer {
                    if let prepared, reader.readColumns, let columns = reader.columns {
                        statements.remember(columns, binary: reader.columnsDecodeInBinary, for: prepared.key)
                    }
                }
                try await readResults(into: &reader) { _, status in
                    switch status {
                    case PGRES_COPY_IN:
                        try await endCopy(abort: "not supported here")
                        return .client("COPY FROM cannot run through execute or query: use copy(into:columns:rows:)")
                    case PGRES_COPY_OUT, PGRES_COPY_BOTH:
                        // libpq stays in COPY mode until the data is read: the connection is given up.
                        lost.store(true, ordering: .relaxed)
                        throw PostgresError.client("COPY TO cannot run through execute or query; the connection was discarded")
                    default:
                        return nil
                    }
                }
                if let failure = reader.failure { throw failure }
                if let rowFailure = reader.rowFailure { throw rowFailure }
                return (reader.rows, reader.affected)
            }
        }
    }

    /// Runs `body` as the connection's only user.
    @inline(__always)
    func exclusively<Result>(_ body: () async throws -> Result) async throws -> Result {
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
    @inline(__always)
    func roundTrip<Result>(
        cancellable isCancellable: Bool, timeout: Duration?, _ body: () async throws -> Result
    ) async throws -> Result {
        if isCancellable { try Task.checkCancellation() }
        roundTripsBegun.add(1, ordering: .relaxed)
        let number = state.withLock { $0.startRoundTrip() }
        let timer = timeout.map { timeout in
            Task { [self, clock] in
                guard (try? await clock.sleep(for: timeout)) != nil else { return }
                perform(state.withLock { $0.deadlinePassed(for: number) }, for: number)
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
        let ending = state.withLock { $0.endRoundTrip() }
        ending.timerToCancel?.cancel()
        if ending.mustAwaitCancelRequest {
            // A cancel request in flight could reach the next statement: wait until it was sent.
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                if !state.withLock({ $0.waitForCancelRequest(continuation) }) { continuation.resume() }
            }
        }
        if case .failure = outcome {
            if ending.timedOut, let timeout {
                throw PostgresError(
                    code: .timeout,
                    message: "the statement did not finish within \(timeout); a cancel request was sent and the connection closed")
            }
            if ending.cancelRequested, case .failure(let error as PostgresError) = outcome,
                error.isQueryCanceled || error.code == .connection
            {
                throw CancellationError()
            }
        }
        return try outcome.get()
    }

    /// Asks the server to cancel round trip `number` (once), and abandons the connection when the
    /// statement has not ended ``PostgresConfiguration/cancelGracePeriod`` later.
    func requestCancel(_ number: UInt64) {
        perform(state.withLock { $0.cancelRequested(for: number) }, for: number)
    }

    /// Asks the server to cancel the round trip in progress, if any.
    func cancelRoundTripInProgress() {
        if let number = state.withLock({ $0.roundTripInProgress }) { requestCancel(number) }
    }

    /// Does what the state machine asked after an event of round trip `number`.
    private func perform(_ actions: PostgresConnectionStateMachine<UnsafeContinuation<Void, Never>, Task<Void, Never>>.Actions, for number: UInt64) {
        if actions.contains(.shutDownSocket) {
            lost.store(true, ordering: .relaxed)
            // Under the lock, so `releaseResources()` cannot close the socket (and its number be
            // reused) meanwhile; the machine refuses once closed.
            state.withLock { machine in if !machine.isClosed { keel_shutdown(slot.socket) } }
        }
        if actions.contains(.wakeWaiter) {
            // Woken here, not only by the reactor's report of the shutdown: the deadline holds
            // even if the socket's readiness is never reported.
            slot.deliver(SocketSlot.failure)?.resume()
        }
        if actions.contains(.sendCancelRequest) { sendCancelRequest() }
        if actions.contains(.startGraceTimer) {
            let timer = Task { [self, clock, cancelGracePeriod] in
                guard (try? await clock.sleep(for: cancelGracePeriod)) != nil else { return }
                perform(state.withLock { $0.gracePeriodPassed(for: number) }, for: number)
            }
            state.withLock { $0.graceTimerStarted(timer, for: number) }?.cancel()
        }
    }

    /// Sends a cancel request from a thread of its own (libpq's `PQcancel` blocks until the server
    /// took it), then reports it sent.
    private func sendCancelRequest() {
        guard let cancelHandle else {
            state.withLock { $0.cancelRequestSent() }.waiter?.resume()
            return
        }
        let handle = UnsafeSendableHandle(handle: cancelHandle)
        BlockingThread.start(name: "keel-postgres-cancel") { [self] in
            var message = [CChar](repeating: 0, count: 256)
            _ = PQcancel(handle.handle, &message, 256)
            let (waiter, free) = state.withLock { $0.cancelRequestSent() }
            if free { PQfreeCancel(handle.handle) }
            waiter?.resume()
        }
    }

    /// Sends a statement: prepared (and cached) when the cache is on, unnamed otherwise. Returns
    /// the prepared statement it ran, if any.
    @discardableResult
    func send(
        _ rendered: SQLRenderedStatement, binds: PostgresBinds, singleRow: Bool
    ) async throws -> PostgresStatementCache.Prepared? {
        try checkAliveBeforeSend()
        let prepared = try await prepare(rendered, binds: binds)
        try sendQuery(rendered.sql, binds: binds, prepared: prepared)
        if singleRow { PQsetSingleRowMode(handle) }
        try await flush()
        return prepared
    }

    /// The statement prepared for `rendered`'s SQL and bind types, prepared now (one round trip)
    /// when the cache does not hold it yet; `nil` when the statement cache is off.
    @inline(__always)
    func prepare(_ rendered: SQLRenderedStatement, binds: PostgresBinds) async throws -> PostgresStatementCache.Prepared? {
        guard statements.capacity > 0 else { return nil }
        let key = PostgresStatementCache.Key(sql: rendered.sql, types: binds.types)
        if let cached = statements.prepared(for: key) { return cached }
        return try await prepareNow(key, rendered, binds: binds)
    }

    /// Prepares the statement of `key` (one round trip), which the cache does not hold.
    func prepareNow(
        _ key: PostgresStatementCache.Key, _ rendered: SQLRenderedStatement, binds: PostgresBinds
    ) async throws -> PostgresStatementCache.Prepared {
        let (prepared, evicted) = statements.insert(key)
        do {
            if let evicted { try await command("DEALLOCATE \(evicted)") }
            try sendPreparation(of: prepared, sql: rendered.sql, binds: binds)
            try await flush()
            if let failure = try await readResults(binds: rendered.binds).failure { throw failure }
        } catch {
            statements.remove(key)
            throw error
        }
        // A cancel request that reached the server between the two messages found it idle and did
        // nothing: stop here rather than run the statement.
        if state.withLock({ $0.isCancelRequested }) { throw CancellationError() }
        return prepared
    }

    /// Queues `sql` with `binds`: as `prepared` when given (its results in binary when it says so),
    /// as an unnamed statement otherwise (its results in text).
    func sendQuery(_ sql: String, binds: PostgresBinds, prepared: PostgresStatementCache.Prepared?) throws(PostgresError) {
        try sendMessage {
            binds.withParameters { count, types, values, lengths, formats in
                if let prepared {
                    prepared.cName.withUnsafeBufferPointer { name in
                        PQsendQueryPrepared(handle, name.baseAddress, count, values, lengths, formats, prepared.binaryResults ? 1 : 0)
                    }
                } else {
                    PQsendQueryParams(handle, sql, count, types, values, lengths, formats, 0)
                }
            }
        }
    }

    /// Queues the preparation of `prepared` for `sql`, with the types of `binds`.
    func sendPreparation(of prepared: PostgresStatementCache.Prepared, sql: String, binds: PostgresBinds) throws(PostgresError) {
        try sendMessage {
            binds.types.withUnsafeBufferPointer { types in
                PQsendPrepare(handle, prepared.name, sql, Int32(types.count), types.baseAddress)
            }
        }
    }

    /// Runs a statement with no binds and no result rows, outside the statement cache.
    func command(_ sql: String) async throws {
        try sendMessage { PQsendQueryParams(handle, sql, 0, nil, nil, nil, nil, 0) }
        try await flush()
        if let failure = try await readResults(binds: []).failure { throw failure }
    }

    /// Queues one message with a `PQsend…` call (`send` returns libpq's 1 for success).
    func sendMessage(_ send: () -> Int32) throws(PostgresError) {
        guard send() == 1 else { throw connectionError() }
        awaitingFirstAnswer = true
    }

    /// Reads the results of what was sent, up to libpq's end of them, into `reader`. A result the
    /// reader does not handle goes to `other`, which may return an error to keep in the reader.
    func readResults(
        into reader: inout PostgresResultReader,
        other: (OpaquePointer, ExecStatusType) async throws -> PostgresError? = { _, _ in nil }
    ) async throws {
        while let result = try await nextResult() {
            defer { PQclear(result) }
            if let status = reader.take(result), let failure = try await other(result, status) { reader.record(failure) }
        }
        if let failure = reader.failure, failure.isConnectionFailure { lost.store(true, ordering: .relaxed) }
    }

    /// Reads the results of a command sent with `binds` to their end.
    func readResults(binds: [SQLValue]) async throws -> PostgresResultReader {
        var reader = PostgresResultReader(binds: binds)
        try await readResults(into: &reader)
        return reader
    }

    /// Fails before sending when the idle connection already heard from the server (it ended the
    /// session, or the socket closed): nothing was sent, so the caller may retry elsewhere.
    func checkAliveBeforeSend() throws(PostgresError) {
        guard !lost.load(ordering: .relaxed) else { throw beforeSend("the connection was lost") }
        // The reactor saw input or a hang-up while the connection was idle: look closer.
        guard slot.takeReady(SocketSlot.readable) else { return }
        for _ in 0..<2 {
            guard keel_poll_readable_now(slot.socket) == 1 else { break }
            awaitingFirstAnswer = false
            if PQconsumeInput(handle) == 0 || PQstatus(handle) != CONNECTION_OK {
                lost.store(true, ordering: .relaxed)
                throw beforeSend(PostgresResultReader.errorMessage(of: handle))
            }
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            lost.store(true, ordering: .relaxed)
            throw beforeSend(PostgresResultReader.errorMessage(of: handle))
        }
    }

    private func beforeSend(_ message: String) -> PostgresError {
        PostgresError(code: .connectionBeforeSend, message: message)
    }

    /// Sends what libpq has buffered, waiting for the socket as needed (and reading meanwhile,
    /// so a server busy sending results never blocks on us).
    @inline(__always)
    func flush() async throws(PostgresError) {
        let flushed = PQflush(handle)
        if flushed == 0 { return }
        try await flushSlowly(flushed)
    }

    /// Goes on with a flush that left data (`flushed` is `PQflush`'s 1) or failed (-1).
    func flushSlowly(_ flushed: Int32) async throws(PostgresError) {
        var flushed = flushed
        while flushed != 0 {
            guard flushed > 0 else { throw connectionError() }
            try await waitUntilWritable()
            flushed = PQflush(handle)
        }
    }

    /// Waits until the socket takes more data, reading what the server sent meanwhile.
    func waitUntilWritable() async throws(PostgresError) {
        await reactor.wait(for: .writable, slot)
        guard PQconsumeInput(handle) == 1 else { throw connectionError() }
        awaitingFirstAnswer = false
    }

    /// The next result of the statement in progress, waiting for the socket as needed; `nil` when
    /// the statement is done.
    @inline(__always)
    func nextResult() async throws(PostgresError) -> OpaquePointer? {
        if PQisBusy(handle) != 0 { try await waitForResult() }
        return PQgetResult(handle)
    }

    /// Reads from the socket until libpq holds a whole result, waiting as needed.
    func waitForResult() async throws(PostgresError) {
        while PQisBusy(handle) != 0 {
            // Edge-triggered: once something was read, wait only when the socket has nothing left
            // (libpq may stop reading before the kernel's buffer is empty, and no new edge comes).
            if awaitingFirstAnswer || keel_poll_readable_now(slot.socket) != 1 {
                await reactor.wait(for: .readable, slot)
            }
            guard PQconsumeInput(handle) == 1 else { throw connectionError() }
            awaitingFirstAnswer = false
        }
    }

    // MARK: Errors and results

    func connectionError() -> PostgresError {
        lost.store(true, ordering: .relaxed)
        return .connection(PostgresResultReader.errorMessage(of: handle))
    }
}
