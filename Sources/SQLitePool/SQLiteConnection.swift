import CSQLite3
import Foundation
import KeelCore
import Logging
public import SQLCore

/// One SQLite connection, lent to the closure of ``SQLiteDatabase/read(_:)`` or
/// ``SQLiteDatabase/write(_:)`` on the connection's own thread.
///
/// Its methods are synchronous: they run SQLite right there, on the thread the database owns for
/// this connection, so a closure can run many statements for the cost of one hop:
///
/// ```swift
/// try await database.write { connection in
///     for token in tokens {
///         try connection.execute("INSERT INTO tokens (symbol, price) VALUES (\(token.symbol), \(token.price))")
///     }
/// }
/// ```
///
/// Statements are prepared once per connection and reused (keyed by SQL text, up to
/// ``SQLiteConfiguration/statementCacheCapacity``). Never keep the connection past the closure.
public final class SQLiteConnection {
    /// The `sqlite3` handle.
    let handle: OpaquePointer
    /// SQLite's dialect as linked: its version and this connection's bind limit.
    public let dialect: SQLDialect
    /// Whether this is a read-only reader connection.
    public let isReader: Bool
    /// A description of the database for errors and logs (its path, or "in-memory").
    let name: String
    private let busyTimeout: Duration
    private let logger: Logger
    private var cache: SQLiteStatementCache
    /// The cached statement run last and the shape of the `SQLStatement` it ran: a loop running
    /// one statement again and again finds it without rendering and hashing the SQL each time.
    /// Replaced whenever a statement is found in or added to the cache, so the cache always holds it.
    private var lastRun: (shape: SQLStatement.Shape, prepared: SQLitePreparedStatement)?
    /// Stops this connection's statements when the running work's task is cancelled.
    let interrupter: SQLiteInterrupter

    /// Opens a connection and applies the configuration's settings.
    ///
    /// #### Errors
    /// ``SQLiteError`` saying why the file cannot be opened (missing directory, not writable, not
    /// a database) or which setting failed.
    init(configuration: SQLiteConfiguration, isReader: Bool) throws(SQLiteError) {
        let path: String
        switch configuration.location {
        case .file(let filePath):
            path = filePath
            name = filePath
        case .inMemory:
            path = ":memory:"
            name = "in-memory"
        }
        let flags = isReader
            ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard code == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(opened)
            throw Self.openError(code: code, message: message, path: path)
        }
        handle = opened
        interrupter = SQLiteInterrupter(handle: opened)
        interrupter.install()
        sqlite3_extended_result_codes(handle, 1)
        self.isReader = isReader
        busyTimeout = configuration.busyTimeout
        logger = configuration.logger
        cache = SQLiteStatementCache(capacity: configuration.statementCacheCapacity)
        dialect = .sqlite(
            versionNumber: Int(sqlite3_libversion_number()),
            maxBindParameters: Int(sqlite3_limit(opened, SQLITE_LIMIT_VARIABLE_NUMBER, -1)))
        do {
            try applySettings(configuration)
        } catch {
            close(checkpoint: false)
            throw Self.settingsError(error, path: path)
        }
    }

    /// The PRAGMAs of the configuration, then its setup SQL.
    private func applySettings(_ configuration: SQLiteConfiguration) throws(SQLiteError) {
        // The first statement reads the file's header: a file that is not a database fails here.
        if !isReader, case .file = configuration.location {
            try executeScript("PRAGMA journal_mode = \(configuration.journalMode.rawValue)")
        } else {
            try executeScript("PRAGMA schema_version")
        }
        try executeScript(
            """
            PRAGMA synchronous = \(configuration.synchronous.rawValue);
            PRAGMA cache_size = \(configuration.cacheSize);
            PRAGMA mmap_size = \(configuration.mmapSize);
            PRAGMA foreign_keys = \(configuration.foreignKeys ? "ON" : "OFF");
            """)
        for sql in configuration.setupSQL {
            try executeScript(sql)
        }
    }

    // MARK: Public statements

    /// Runs a statement and returns the number of rows it inserted, updated or deleted (0 for
    /// other statements). Without binds, the text may hold several statements separated by `;`.
    ///
    /// #### Errors
    /// ``SQLiteError`` with SQLite's code and message and the statement's SQL; a statement
    /// interrupted by the cancellation of its task fails with `SQLITE_INTERRUPT`.
    @discardableResult
    public func execute(_ statement: SQLStatement) throws -> Int {
        let before = sqlite3_total_changes64(handle)
        _ = try withStatement(statement, scriptAllowed: true) { prepared in
            while try step(prepared) {}
        }
        return Int(sqlite3_total_changes64(handle) - before)
    }

    /// Runs a statement and returns all its rows.
    ///
    /// #### Errors
    /// As ``execute(_:)``.
    public func query(_ statement: SQLStatement) throws -> [SQLRow] {
        try withStatement(statement) { prepared in
            try readRows(of: prepared)
        } ?? []
    }

    /// Runs a statement and calls `body` with each row as it is read, without collecting them:
    /// for results too large to hold at once.
    ///
    /// #### Errors
    /// As ``execute(_:)``, or what `body` throws (the statement stops there).
    public func forEachRow(_ statement: SQLStatement, _ body: (SQLRow) throws -> Void) throws {
        _ = try withStatement(statement) { prepared in
            guard try step(prepared) else { return }
            let columns = prepared.columns
            repeat {
                try body(SQLRow(columns: columns, values: rowValues(of: prepared, count: columns.count)))
            } while try step(prepared)
        }
    }

    /// The rowid of the last row inserted on this connection (`sqlite3_last_insert_rowid`).
    public var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// How many prepared statements the connection keeps for reuse now.
    public var cachedStatementCount: Int { cache.count }

    /// Whether a transaction is open on this connection.
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: Internal statements

    /// The rows of a statement that leaves the database unchanged; `nil`, without running it, for
    /// one that writes (a reader routes it to the writer).
    func queryIfReadOnly(_ statement: SQLStatement) throws -> [SQLRow]? {
        try withStatement(statement) { prepared -> [SQLRow]? in
            guard prepared.isReadOnly else { return nil }
            return try readRows(of: prepared)
        } ?? nil
    }

    /// Runs a transaction control statement (`BEGIN IMMEDIATE`, `COMMIT`, `ROLLBACK`, ...).
    func executeControl(_ sql: String) throws {
        _ = try withStatement(SQLStatement(unsafeRaw: sql)) { prepared in
            while try step(prepared) {}
        }
    }

    /// Runs `body` between `begin` and `COMMIT`; rolls back when it throws, or when the task of the
    /// running work was cancelled meanwhile (then throws `CancellationError`).
    func inTransaction<Result>(beginningWith begin: String, _ body: (SQLiteConnection) throws -> Result) throws -> Result {
        try executeControl(begin)
        do {
            let result = try body(self)
            if interrupter.isRequested { throw CancellationError() }
            try executeControl("COMMIT")
            return result
        } catch {
            rollbackIfInTransaction()
            throw error
        }
    }

    /// Rolls back an open transaction, if any, so the connection is clean for the next work.
    func rollbackIfInTransaction() {
        guard isInTransaction else { return }
        // The rollback must run even for cancelled work.
        interrupter.reset()
        do {
            try executeControl("ROLLBACK")
        } catch {
            logger.warning("SQLite rollback failed", metadata: ["database": "\(name)", "error": "\(error)"])
        }
    }

    private func readRows(of prepared: SQLitePreparedStatement) throws(SQLiteError) -> [SQLRow] {
        guard try step(prepared) else { return [] }
        let columns = prepared.columns
        var rows: [SQLRow] = []
        repeat {
            rows.append(SQLRow(columns: columns, values: rowValues(of: prepared, count: columns.count)))
        } while try step(prepared)
        return rows
    }

    // MARK: Preparing and binding

    /// Runs `body` with the statement prepared from `statement`'s SQL (from the cache when it is
    /// there) and its binds bound, then resets it; a statement not kept is finalized. A text of
    /// several statements with no binds runs as a script when `scriptAllowed`, and `body` is not called.
    private func withStatement<Result>(
        _ statement: SQLStatement, scriptAllowed: Bool = false, _ body: (SQLitePreparedStatement) throws -> Result
    ) throws -> Result? {
        let prepared: SQLitePreparedStatement
        var isCached = true
        if let lastRun, statement.hasShape(lastRun.shape) {
            try statement.validate(for: dialect)
            prepared = lastRun.prepared
            cache.markUsed(prepared)
        } else {
            let sql = try statement.sql(for: dialect)
            if let cached = cache.statement(for: sql) {
                prepared = cached
            } else {
                guard let fresh = try prepare(sql) else {
                    guard scriptAllowed, statement.bindCount == 0 else {
                        throw SQLiteError.misuse(
                            scriptAllowed
                                ? "the SQL holds several statements and has binds: run one statement per call when it has binds"
                                : "the SQL holds several statements: a query runs one",
                            sql: sql)
                    }
                    try executeScript(sql)
                    return nil
                }
                prepared = fresh
                if cache.capacity > 0 {
                    cache.insert(fresh)?.finalize()
                } else {
                    isCached = false
                }
            }
            if isCached { lastRun = (statement.shape, prepared) }
        }
        defer {
            sqlite3_reset(prepared.handle)
            if !isCached { prepared.finalize() }
        }
        try bind(statement, to: prepared)
        return try body(prepared)
    }

    /// Prepares one statement; `nil` when the text holds more than one.
    private func prepare(_ sql: String) throws(SQLiteError) -> SQLitePreparedStatement? {
        var statement: OpaquePointer?
        var tailIsBlank = true
        let flags = UInt32(cache.capacity > 0 ? SQLITE_PREPARE_PERSISTENT : 0)
        let code = sql.utf8CString.withUnsafeBufferPointer { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let code = sqlite3_prepare_v3(handle, text.baseAddress, Int32(text.count), flags, &statement, &tail)
            if code == SQLITE_OK, let tail {
                var cursor = tail
                while cursor.pointee != 0 {
                    let byte = UInt8(bitPattern: cursor.pointee)
                    if byte != UInt8(ascii: ";") && byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\n")
                        && byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\r")
                    {
                        tailIsBlank = false
                        break
                    }
                    cursor += 1
                }
            }
            return code
        }
        guard code == SQLITE_OK else {
            sqlite3_finalize(statement)
            throw SQLiteError.last(on: handle, sql: sql)
        }
        guard let statement else {
            throw SQLiteError.misuse("the SQL holds no statement", sql: sql)
        }
        guard tailIsBlank else {
            sqlite3_finalize(statement)
            return nil
        }
        return SQLitePreparedStatement(handle: statement, sql: sql)
    }

    /// Runs every statement of a text with no binds, in order (settings, migrations).
    func executeScript(_ sql: String) throws(SQLiteError) {
        var utf8 = Array(sql.utf8CString)
        try utf8.withUnsafeMutableBufferPointer { (text) throws(SQLiteError) in
            guard var cursor = UnsafePointer(text.baseAddress) else { return }
            let end = cursor + text.count
            while cursor < end, cursor.pointee != 0 {
                var statement: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let code = sqlite3_prepare_v2(handle, cursor, Int32(end - cursor), &statement, &tail)
                guard code == SQLITE_OK else {
                    sqlite3_finalize(statement)
                    throw SQLiteError.last(on: handle, sql: sql)
                }
                guard let tail else { sqlite3_finalize(statement); return }
                cursor = tail
                guard let statement else { continue }  // whitespace or a comment
                let prepared = SQLitePreparedStatement(handle: statement, sql: sql)
                defer { prepared.finalize() }
                while try step(prepared) {}
            }
        }
    }

    private func bind(_ source: SQLStatement, to prepared: SQLitePreparedStatement) throws(SQLiteError) {
        guard source.bindCount == prepared.parameterCount else {
            throw SQLiteError.misuse(
                "the statement has \(prepared.parameterCount) placeholders but \(source.bindCount) binds were given",
                sql: prepared.sql)
        }
        let statement = prepared.handle
        try source.forEachBind { (offset, value) throws(SQLiteError) in
            let index = Int32(offset + 1)
            let code: Int32 =
                switch value {
                case .null: sqlite3_bind_null(statement, index)
                case .bool(let flag): sqlite3_bind_int64(statement, index, flag ? 1 : 0)
                case .int64(let number): sqlite3_bind_int64(statement, index, number)
                case .double(let number): sqlite3_bind_double(statement, index, number)
                case .text(let text), .json(let text): Self.bindText(text, at: index, in: statement)
                case .blob(let bytes):
                    bytes.withUnsafeBytes {
                        sqlite3_bind_blob64(statement, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64($0.count), keel_sqlite3_transient())
                    }
                case .date(let date): Self.bindText(SQLTimestamp.string(from: date), at: index, in: statement)
                case .uuid(let uuid): Self.bindText(uuid.uuidString, at: index, in: statement)
                }
            guard code == SQLITE_OK else { throw SQLiteError.last(on: handle, sql: prepared.sql) }
        }
    }

    private static func bindText(_ text: String, at index: Int32, in statement: OpaquePointer) -> Int32 {
        var text = text
        return text.withUTF8 { bytes in
            sqlite3_bind_text64(
                statement, index, UnsafeRawPointer(bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                    .assumingMemoryBound(to: CChar.self),
                UInt64(bytes.count), keel_sqlite3_transient(), UInt8(SQLITE_UTF8))
        }
    }

    // MARK: Stepping and reading

    /// Steps a statement: `true` for a row, `false` when done. A statement that finds the database
    /// locked is reset and retried with back-off up to the busy timeout, when retrying is safe:
    /// outside a transaction, or for a statement that changes nothing (a read, `BEGIN`, `COMMIT`).
    private func step(_ prepared: SQLitePreparedStatement) throws(SQLiteError) -> Bool {
        let code = sqlite3_step(prepared.handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        return try stepAgainWhileBusy(prepared, failure: code)
    }

    private func stepAgainWhileBusy(_ prepared: SQLitePreparedStatement, failure: Int32) throws(SQLiteError) -> Bool {
        var code = failure
        var failures = 0
        let start = ContinuousClock.now
        while Self.isBusy(code), sqlite3_get_autocommit(handle) != 0 || prepared.isReadOnly {
            let lastError = SQLiteError.last(on: handle, sql: prepared.sql)
            sqlite3_reset(prepared.handle)
            let remaining = busyTimeout - (.now - start)
            guard remaining > .zero else {
                throw SQLiteError(
                    code: lastError.code,
                    message: "\(lastError.message): \(name) was still locked by another connection or process "
                        + "after retrying for \(busyTimeout) (SQLiteConfiguration.busyTimeout); "
                        + "find the long transaction or raise the timeout",
                    sql: prepared.sql)
            }
            failures += 1
            let delay = min(Self.busyBackoff.delay(afterFailure: failures, random: .random(in: 0..<1)), remaining)
            if failures == 1 {
                logger.debug("SQLite database is locked; retrying", metadata: ["database": "\(name)", "sql": "\(prepared.sql)"])
            }
            if interrupter.isRequested {
                throw SQLiteError(code: SQLITE_INTERRUPT, message: "interrupted while waiting for a lock", sql: prepared.sql)
            }
            Self.sleep(for: delay)
            code = sqlite3_step(prepared.handle)
            if code == SQLITE_ROW { return true }
            if code == SQLITE_DONE { return false }
        }
        throw SQLiteError.last(on: handle, sql: prepared.sql)
    }

    /// The waits between retries of a statement that found the database locked, each cut short
    /// at the busy timeout: 1 ms doubling up to 64 ms, at least half of each fixed.
    static let busyBackoff = Backoff(initialDelay: .milliseconds(1), maximumDelay: .milliseconds(64), jitter: .equal)

    private static func isBusy(_ code: Int32) -> Bool {
        code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED
    }

    /// Sleeps the connection's own thread (never a cooperative one).
    private static func sleep(for duration: Duration) {
        let nanoseconds = duration.inNanoseconds
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR {
            request = remaining
        }
    }

    private func rowValues(of prepared: SQLitePreparedStatement, count: Int) -> [SQLValue] {
        let statement = prepared.handle
        return [SQLValue](unsafeUninitializedCapacity: count) { buffer, initialized in
            for column in 0..<count {
                (buffer.baseAddress! + column).initialize(to: Self.value(at: Int32(column), of: statement))
            }
            initialized = count
        }
    }

    private static func value(at column: Int32, of statement: OpaquePointer) -> SQLValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER:
            return .int64(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT:
            return .double(sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(statement, column) else { return .text("") }
            let count = Int(sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, column))
            guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }

    // MARK: Closing

    /// Finalizes every statement and closes the connection; the writer first checkpoints the WAL
    /// into the database file and truncates it.
    func close(checkpoint: Bool) {
        if checkpoint {
            rollbackIfInTransaction()
            let code = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
            if code != SQLITE_OK {
                logger.debug(
                    "SQLite checkpoint at close did not complete",
                    metadata: ["database": "\(name)", "error": "\(SQLiteError.last(on: handle, sql: nil))"])
            }
        }
        // After the rollback, which may have prepared and cached its statement.
        lastRun = nil
        for statement in cache.removeAll() { statement.finalize() }
        let code = sqlite3_close_v2(handle)
        if code != SQLITE_OK {
            logger.warning("SQLite close failed", metadata: ["database": "\(name)", "code": "\(code)"])
        }
    }

    // MARK: Open errors

    private static func openError(code: Int32, message: String, path: String) -> SQLiteError {
        guard code & 0xFF == SQLITE_CANTOPEN, path != ":memory:" else {
            return SQLiteError(code: code, message: "cannot open the database at \(path): \(message)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
            return SQLiteError(
                code: code, message: "cannot open the database at \(path): the directory \(directory) does not exist; create it first")
        }
        return SQLiteError(
            code: code,
            message: "cannot open the database at \(path): the location is read-only, not a regular file, "
                + "or not accessible (\(message))")
    }

    private static func settingsError(_ error: SQLiteError, path: String) -> SQLiteError {
        switch error.code.primary.rawValue {
        case SQLITE_NOTADB:
            SQLiteError(code: error.code, message: "the file at \(path) is not a SQLite database (\(error.message))", sql: error.sql)
        case SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_IOERR:
            SQLiteError(
                code: error.code, message: "the database at \(path) cannot be written (\(error.message)): check the file's and directory's permissions",
                sql: error.sql)
        default:
            SQLiteError(code: error.code, message: "setting up the connection to \(path) failed: \(error.message)", sql: error.sql)
        }
    }
}
