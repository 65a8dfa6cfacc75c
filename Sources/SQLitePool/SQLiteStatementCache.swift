/// A connection's prepared statements keyed by SQL text, bounded, least recently used evicted.
struct SQLiteStatementCache {
    /// The most statements kept; 0 keeps none.
    let capacity: Int
    private var statements: [String: SQLitePreparedStatement] = [:]
    private var useCounter: UInt64 = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The number of statements kept.
    var count: Int { statements.count }

    /// The statement prepared from `sql`, marked as just used.
    mutating func statement(for sql: String) -> SQLitePreparedStatement? {
        guard let statement = statements[sql] else { return nil }
        markUsed(statement)
        return statement
    }

    /// Marks a statement the cache holds as just used.
    mutating func markUsed(_ statement: SQLitePreparedStatement) {
        useCounter &+= 1
        statement.lastUse = useCounter
    }

    /// Keeps a statement (the capacity must be above 0); returns the one evicted to make room,
    /// which the caller finalizes.
    mutating func insert(_ statement: SQLitePreparedStatement) -> SQLitePreparedStatement? {
        precondition(capacity > 0, "a cache with no room keeps nothing")
        var evicted: SQLitePreparedStatement?
        if statements.count >= capacity, let oldest = statements.values.min(by: { $0.lastUse < $1.lastUse }) {
            statements[oldest.sql] = nil
            evicted = oldest
        }
        useCounter &+= 1
        statement.lastUse = useCounter
        statements[statement.sql] = statement
        return evicted
    }

    /// Removes and returns every statement, for finalizing.
    mutating func removeAll() -> [SQLitePreparedStatement] {
        defer { statements = [:] }
        return Array(statements.values)
    }
}
