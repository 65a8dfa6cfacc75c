import SQLCore

/// A total order on conflict keys, used to sort rows so that concurrent writers lock rows in the
/// same order. Any consistent order prevents the deadlock; this one ranks kinds first, then values.
enum SQLValueOrdering {
    /// Whether `lhs` sorts before `rhs`, comparing value by value.
    static func precedes(_ lhs: [SQLValue], _ rhs: [SQLValue]) -> Bool {
        for (left, right) in zip(lhs, rhs) {
            if let less = compare(left, right) { return less }
        }
        return lhs.count < rhs.count
    }

    /// Whether `lhs` sorts before `rhs` (single-column keys).
    static func precedes(_ lhs: SQLValue, _ rhs: SQLValue) -> Bool {
        compare(lhs, rhs) ?? false
    }

    /// `true` when `lhs` < `rhs`, `false` when `lhs` > `rhs`, `nil` when equal.
    private static func compare(_ lhs: SQLValue, _ rhs: SQLValue) -> Bool? {
        switch (lhs, rhs) {
        case (.null, .null): return nil
        case (.bool(let a), .bool(let b)): return a == b ? nil : !a
        case (.int64(let a), .int64(let b)): return a == b ? nil : a < b
        case (.double(let a), .double(let b)): return a == b ? nil : a < b
        case (.text(let a), .text(let b)), (.json(let a), .json(let b)): return a == b ? nil : a < b
        case (.blob(let a), .blob(let b)): return a == b ? nil : a.lexicographicallyPrecedes(b)
        case (.date(let a), .date(let b)): return a == b ? nil : a < b
        case (.uuid(let a), .uuid(let b)): return a == b ? nil : a.uuidString < b.uuidString
        default: return rank(lhs) < rank(rhs)
        }
    }

    private static func rank(_ value: SQLValue) -> Int {
        switch value {
        case .null: 0
        case .bool: 1
        case .int64: 2
        case .double: 3
        case .text: 4
        case .blob: 5
        case .date: 6
        case .uuid: 7
        case .json: 8
        }
    }
}
