import CLibPQ

/// A connection's prepared statements: SQL text and parameter types to the statement's name,
/// least recently used evicted first.
struct PostgresStatementCache {
    struct Key: Hashable {
        let sql: String
        let types: [Oid]
    }

    private struct Entry {
        let name: String
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

    /// The statement's name, when prepared; marks it used.
    mutating func name(for key: Key) -> String? {
        clock &+= 1
        guard let entry = entries[key] else { return nil }
        entries[key]!.lastUse = clock
        return entry.name
    }

    /// Names a new statement and, when the cache is full, evicts the least recently used one,
    /// whose name is returned so the caller can deallocate it.
    mutating func insert(_ key: Key) -> (name: String, evicted: String?) {
        var evicted: String?
        if entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries[oldest.key] = nil
            evicted = oldest.value.name
        }
        nextNumber += 1
        let name = "keel_\(nextNumber)"
        clock &+= 1
        entries[key] = Entry(name: name, lastUse: clock)
        return (name, evicted)
    }

    /// Forgets a statement (its preparation failed).
    mutating func remove(_ key: Key) {
        entries[key] = nil
    }
}
