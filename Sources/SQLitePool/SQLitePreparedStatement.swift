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
    /// The number of result columns.
    let columnCount: Int32
    /// The use counter value of its last use, for least-recently-used eviction.
    var lastUse: UInt64 = 0
    private var cachedColumns: SQLColumns?

    init(handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
        isReadOnly = sqlite3_stmt_readonly(handle) != 0
        parameterCount = Int(sqlite3_bind_parameter_count(handle))
        columnCount = sqlite3_column_count(handle)
    }

    /// The result's column names, read once.
    var columns: SQLColumns {
        if let cachedColumns { return cachedColumns }
        let columns = SQLColumns((0..<columnCount).map { String(cString: sqlite3_column_name(handle, $0)) })
        cachedColumns = columns
        return columns
    }

    /// Finalizes the statement; it must not be used afterwards.
    func finalize() {
        sqlite3_finalize(handle)
    }
}
