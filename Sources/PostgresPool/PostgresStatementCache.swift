import CLibPQ
import SQLCore

/// A connection's prepared statements: SQL text and parameter types to the statement's name and
/// the columns of its results, least recently used evicted first.
struct PostgresStatementCache {
    struct Key: Hashable {
        let sql: String
        let types: [Oid]
    }

    /// A prepared statement, as a statement call needs it.
    struct Prepared {
        /// Its key in the cache.
        let key: Key
        /// Its name.
        let name: String
        /// Its name for libpq: null-terminated, converted once rather than at every call.
        let cName: ContiguousArray<CChar>
        /// The columns of its results, once a result was read (a statement's result columns do
        /// not change while it stays prepared).
        var columns: SQLColumns?
        /// Whether its results are asked for in binary: once a result was read and every one of
        /// its columns has a type ``PostgresBinaryDecoder`` decodes.
        var binaryResults = false
    }

    private struct Entry {
        var prepared: Prepared
        var lastUse: UInt64
    }

    /// The most statements kept prepared; 0 disables the cache.
    let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var clock: UInt64 = 0
    private var nextNumber = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The statement, when prepared; marks it used.
    mutating func prepared(for key: Key) -> Prepared? {
        clock &+= 1
        guard let index = entries.index(forKey: key) else { return nil }
        entries.values[index].lastUse = clock
        return entries.values[index].prepared
    }

    /// Names a new statement and, when the cache is full, evicts the least recently used one,
    /// whose name is returned so the caller can deallocate it.
    mutating func insert(_ key: Key) -> (prepared: Prepared, evicted: String?) {
        var evicted: String?
        if entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries[oldest.key] = nil
            evicted = oldest.value.prepared.name
        }
        nextNumber += 1
        let name = "keel_\(nextNumber)"
        let prepared = Prepared(key: key, name: name, cName: name.utf8CString, columns: nil)
        clock &+= 1
        entries[key] = Entry(prepared: prepared, lastUse: clock)
        return (prepared, evicted)
    }

    /// Keeps the columns of a statement's results, and whether they may come in binary.
    mutating func remember(_ columns: SQLColumns, binary: Bool, for key: Key) {
        entries[key]?.prepared.columns = columns
        entries[key]?.prepared.binaryResults = binary
    }

    /// Every statement prepared, least recently used first.
    var preparedStatements: [Prepared] {
        entries.values.sorted { $0.lastUse < $1.lastUse }.map(\.prepared)
    }

    /// Forgets a statement (its preparation failed).
    mutating func remove(_ key: Key) {
        entries[key] = nil
    }
}
