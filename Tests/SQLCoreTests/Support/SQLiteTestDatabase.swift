import CSQLite3
import Dispatch
import Foundation
import SQLCore

/// A minimal `SQLDatabase` over one sqlite3 connection, for running the conformance suite
/// against a real database before the SQLite backend exists. Test-only: one connection, no
/// pool, no statement cache. Every sqlite3 call runs on the connection's serial dispatch queue,
/// never on the cooperative pool.
final class SQLiteTestConnection: @unchecked Sendable {
    // `handle` is only touched on `queue`, which serialises every use: that is what makes
    // this class safe to share (hence @unchecked Sendable).
    private let queue = DispatchQueue(label: "keel.tests.sqlite")
    private let handle: OpaquePointer

    init(path: String) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw SQLiteTestError(message: message)
        }
        self.handle = handle
    }

    deinit { sqlite3_close_v2(handle) }

    var dialect: SQLDialect {
        .sqlite(
            versionNumber: Int(sqlite3_libversion_number()),
            maxBindParameters: Int(sqlite3_limit(handle, SQLITE_LIMIT_VARIABLE_NUMBER, -1)))
    }

    func run<Result: Sendable>(
        _ sql: String, binds: [SQLValue], _ work: @escaping @Sendable (OpaquePointer, OpaquePointer) throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                continuation.resume(
                    with: Swift.Result {
                        var statement: OpaquePointer?
                        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
                            throw SQLiteTestError(message: String(cString: sqlite3_errmsg(handle)))
                        }
                        defer { sqlite3_finalize(statement) }
                        for (index, value) in binds.enumerated() {
                            try Self.bind(value, at: Int32(index + 1), in: statement, handle: handle)
                        }
                        return try work(handle, statement)
                    })
            }
        }
    }

    private static func bind(_ value: SQLValue, at index: Int32, in statement: OpaquePointer, handle: OpaquePointer) throws {
        let transient = keel_sqlite3_transient()
        let code: Int32 =
            switch value {
            case .null: sqlite3_bind_null(statement, index)
            case .bool(let flag): sqlite3_bind_int64(statement, index, flag ? 1 : 0)
            case .int64(let number): sqlite3_bind_int64(statement, index, number)
            case .double(let number): sqlite3_bind_double(statement, index, number)
            case .text(let text), .json(let text): sqlite3_bind_text(statement, index, text, -1, transient)
            case .blob(let bytes):
                bytes.isEmpty
                    ? sqlite3_bind_zeroblob(statement, index, 0)
                    : bytes.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient) }
            case .date(let date): sqlite3_bind_text(statement, index, SQLTimestamp.string(from: date), -1, transient)
            case .uuid(let uuid): sqlite3_bind_text(statement, index, uuid.uuidString, -1, transient)
            }
        guard code == SQLITE_OK else { throw SQLiteTestError(message: String(cString: sqlite3_errmsg(handle))) }
    }

    static func step(_ statement: OpaquePointer, handle: OpaquePointer) throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteTestError(message: String(cString: sqlite3_errmsg(handle)))
        }
    }

    static func value(at column: Int32, of statement: OpaquePointer) -> SQLValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .int64(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(statement, column))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, column)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, column))
            guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }
}

struct SQLiteTestError: Error, CustomStringConvertible {
    let message: String
    var description: String { "SQLite: \(message)" }
}

/// The `SQLDatabase` view of a ``SQLiteTestConnection``; inside a transaction, `depth` is the
/// nesting level the next `transaction` call uses.
struct SQLiteTestDatabase: SQLDatabase {
    let connection: SQLiteTestConnection
    var depth = 0

    var dialect: SQLDialect { connection.dialect }

    func execute(_ statement: SQLStatement) async throws -> Int {
        let rendered = try statement.render(for: dialect)
        return try await connection.run(rendered.sql, binds: rendered.binds) { handle, prepared in
            let before = sqlite3_total_changes64(handle)
            while try SQLiteTestConnection.step(prepared, handle: handle) {}
            return Int(sqlite3_total_changes64(handle) - before)
        }
    }

    func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        let rendered = try statement.render(for: dialect)
        return try await connection.run(rendered.sql, binds: rendered.binds) { handle, prepared in
            let count = sqlite3_column_count(prepared)
            let columns = SQLColumns((0..<count).map { String(cString: sqlite3_column_name(prepared, $0)) })
            var rows: [SQLRow] = []
            while try SQLiteTestConnection.step(prepared, handle: handle) {
                rows.append(SQLRow(columns: columns, values: (0..<count).map { SQLiteTestConnection.value(at: $0, of: prepared) }))
            }
            return rows
        }
    }

    func transaction<Result: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        let inner = SQLiteTestDatabase(connection: connection, depth: depth + 1)
        return try await SQLTransactionScope.run(
            depth: depth,
            execute: { sql in _ = try await connection.run(sql, binds: []) { handle, prepared in
                try SQLiteTestConnection.step(prepared, handle: handle)
            } },
            body: { try await body(inner) })
    }
}
