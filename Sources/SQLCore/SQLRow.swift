/// One row of a query result: its column names and values.
///
/// Read a column by name or index, as a ``SQLValue`` or decoded into a Swift type:
///
/// ```swift
/// let rows = try await database.query("SELECT id, symbol, price FROM tokens")
/// for row in rows {
///     let id = try row.decode(Int.self, "id")
///     let price = try row.decode(Double?.self, "price")
///     let token = try row.decode(Token.self)   // a Decodable struct, by column names
/// }
/// ```
///
/// All rows of one result share one ``SQLColumns``, so a row costs one array of values.
public struct SQLRow: Sendable, Hashable {
    /// The result's column names, shared by all its rows.
    public let columns: SQLColumns
    /// The values, in column order.
    public let values: [SQLValue]

    /// Creates a row. `values` must have one value per column.
    public init(columns: SQLColumns, values: [SQLValue]) {
        precondition(columns.count == values.count, "a row needs one value per column")
        self.columns = columns
        self.values = values
    }

    /// The number of columns.
    public var count: Int { values.count }

    /// The value at a column index.
    public subscript(index: Int) -> SQLValue { values[index] }

    /// The value of the first column with this name, or `nil` when there is none.
    public subscript(column: String) -> SQLValue? {
        columns.index(of: column).map { values[$0] }
    }

    /// Reads a column by name as `type`.
    ///
    /// #### Errors
    /// ``SQLDecodingError`` naming the column, the type and the kind found, when the row has
    /// no such column or the value does not fit (`NULL` fits only an optional).
    @inlinable
    public func decode<T: SQLValueDecodable>(_ type: T.Type, _ column: String) throws(SQLDecodingError) -> T {
        guard let index = columns.index(of: column) else {
            throw .missing(column: "\"\(column)\"", decodingAs: T.self, availableColumns: columns.names)
        }
        return try decode(T.self, index: index, columnLabel: "\"\(column)\"")
    }

    /// Reads a column by index as `type`.
    ///
    /// #### Errors
    /// ``SQLDecodingError`` when the index is out of range or the value does not fit.
    @inlinable
    public func decode<T: SQLValueDecodable>(_ type: T.Type, at index: Int) throws(SQLDecodingError) -> T {
        guard values.indices.contains(index) else {
            throw .missing(column: "[\(index)]", decodingAs: T.self, availableColumns: columns.names)
        }
        return try decode(T.self, index: index, columnLabel: "\"\(columns.names[index])\"")
    }

    /// Reads the whole row as a `Decodable` type, matching its coding keys to column names.
    ///
    /// Properties of the types ``SQLValueDecodable`` covers are read directly; an optional
    /// property is `nil` for `NULL` or a missing column; any other `Decodable` property
    /// (a nested struct, an array) is decoded from the column's JSON text.
    ///
    /// #### Errors
    /// ``SQLDecodingError`` naming the first column that is missing or does not fit, or the
    /// `DecodingError` of a JSON column.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: SQLRowDecoder(row: self))
    }

    /// Reads the value at `index` (in range) as `type`; `columnLabel` names it in the error and is
    /// built only then, so a decode that succeeds allocates nothing.
    @inlinable
    func decode<T: SQLValueDecodable>(
        _ type: T.Type, index: Int, columnLabel: @autoclosure () -> String
    ) throws(SQLDecodingError) -> T {
        guard let decoded = T(sqlValue: values[index]) else {
            throw .mismatch(column: columnLabel(), decodingAs: T.self, found: values[index], availableColumns: columns.names)
        }
        return decoded
    }
}

extension SQLRow: CustomStringConvertible {
    /// The column names with the kind of each value, never the values: `(id: int64, name: text(5 bytes))`.
    public var description: String {
        "(" + zip(columns.names, values).map { "\($0): \($1)" }.joined(separator: ", ") + ")"
    }
}
