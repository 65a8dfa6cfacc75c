/// The column names of a query result, with a lookup by name; shared by all its rows.
public struct SQLColumns: Sendable, Hashable {
    /// The names, in column order.
    public let names: [String]
    private let positions: [String: Int]

    /// Creates the columns of a result. Where two columns share a name, lookups by name
    /// find the first.
    public init(_ names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        positions.reserveCapacity(names.count)
        for (index, name) in names.enumerated() where positions[name] == nil {
            positions[name] = index
        }
        self.positions = positions
    }

    /// The number of columns.
    public var count: Int { names.count }

    /// The index of the first column with this name.
    public func index(of name: String) -> Int? { positions[name] }

    /// Two column sets are equal when their names are, in order.
    public static func == (lhs: SQLColumns, rhs: SQLColumns) -> Bool { lhs.names == rhs.names }

    /// Hashes the names.
    public func hash(into hasher: inout Hasher) { hasher.combine(names) }
}
