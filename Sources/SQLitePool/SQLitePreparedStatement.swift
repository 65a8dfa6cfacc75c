import CSQLite3
import SQLCore

/// A statement prepared on one connection, with what Keel learned about it once: its column
/// names (shared by every row it returns) and whether it writes.
final class SQLitePreparedStatement {
    /// The `sqlite3_stmt`.
    let handle: OpaquePointer
    /// The SQL text it was prepared from.
    let sql: String
    /// Whether it leaves the database unchanged (`sqlite3_stmt_readonly`).
    let isReadOnly: Bool
    /// The number of `?` placeholders.
    let parameterCount: Int
    /// The use counter value of its last use, for least-recently-used eviction.
    var lastUse: UInt64 = 0
    private var cachedColumns: SQLColumns?
    /// How many times SQLite had re-prepared it (after a schema change) when the columns were read.
    private var reprepareCountOfColumns: Int32 = 0

    init(handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
        isReadOnly = sqlite3_stmt_readonly(handle) != 0
        parameterCount = Int(sqlite3_bind_parameter_count(handle))
    }

    /// The result's column names: read once, and again after SQLite re-prepared the statement
    /// because the schema changed (`SELECT *` after `ALTER TABLE ... ADD COLUMN`). Ask after the
    /// first step, which is where SQLite re-prepares.
    var columns: SQLColumns {
        let reprepareCount = sqlite3_stmt_status(handle, SQLITE_STMTSTATUS_REPREPARE, 0)
        if let cachedColumns, reprepareCount == reprepareCountOfColumns { return cachedColumns }
        let columns = SQLColumns((0..<sqlite3_column_count(handle)).map { String(cString: sqlite3_column_name(handle, $0)) })
        cachedColumns = columns
        reprepareCountOfColumns = reprepareCount
        return columns
    }

    /// Finalizes the statement; it must not be used afterwards.
    func finalize() {
        sqlite3_finalize(handle)
    }
}
