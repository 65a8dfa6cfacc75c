import CLibPQ
public import SQLCore

/// One row of a PostgreSQL result, read where libpq holds it: a column is decoded only when it is
/// asked for, and no array of values is built for the row.
///
/// ``PostgresDatabase/query(_:rowsAs:)`` and ``PostgresConnection/query(_:rowsAs:)`` give one to
/// their closure for each row. It is valid only during that call, and cannot be copied out of it.
///
/// ```swift
/// let prices = try await database.query("SELECT symbol, price FROM tokens") { row in
///     (try row.decode(String.self, "symbol"), try row.decode(Double.self, "price"))
/// }
/// ```
public struct PostgresRowView: ~Copyable {
    let result: OpaquePointer
    let index: Int32
    let formats: UnsafeBufferPointer<(type: Oid, binary: Bool)>
    /// The result's column names.
    public let columns: SQLColumns

    init(result: OpaquePointer, index: Int32, columns: SQLColumns, formats: UnsafeBufferPointer<(type: Oid, binary: Bool)>) {
        self.result = result
        self.index = index
        self.columns = columns
        self.formats = formats
    }

    /// The number of columns.
    public var count: Int { formats.count }

    /// The value at column `index` (in range), decoded as `SQLRow` decodes it.
    public subscript(index: Int) -> SQLValue {
        precondition(formats.indices.contains(index), "column index \(index) is out of range (\(count) columns)")
        let field = Int32(index)
        guard PQgetisnull(result, self.index, field) == 0 else { return .null }
        let format = formats[index]
        let pointer = PQgetvalue(result, self.index, field)!
        let length = Int(PQgetlength(result, self.index, field))
        return format.binary
            ? PostgresBinaryDecoder.value(type: format.type, pointer: pointer, length: length)
            : PostgresTextDecoder.value(type: format.type, pointer: pointer, length: length)
    }

    /// The value of the first column named `column`, or `nil` when there is none.
    public subscript(column: String) -> SQLValue? {
        columns.index(of: column).map { self[$0] }
    }

    /// Reads a column by name as `type`.
    ///
    /// #### Errors
    /// `SQLDecodingError`, as `SQLRow.decode(_:_:)` throws it.
    public func decode<T: SQLValueDecodable>(_ type: T.Type, _ column: String) throws(SQLDecodingError) -> T {
        guard let index = columns.index(of: column) else {
            throw .missing(column: "\"\(column)\"", decodingAs: T.self, availableColumns: columns.names)
        }
        return try decode(T.self, index: index, columnLabel: "\"\(column)\"")
    }

    /// Reads a column by index as `type`.
    ///
    /// #### Errors
    /// `SQLDecodingError`, as `SQLRow.decode(_:at:)` throws it.
    public func decode<T: SQLValueDecodable>(_ type: T.Type, at index: Int) throws(SQLDecodingError) -> T {
        guard formats.indices.contains(index) else {
            throw .missing(column: "[\(index)]", decodingAs: T.self, availableColumns: columns.names)
        }
        return try decode(T.self, index: index, columnLabel: "\"\(columns.names[index])\"")
    }

    /// The whole row as an `SQLRow`.
    public var row: SQLRow {
        PostgresResultReader.row(index, of: result, columns: columns, formats: formats)
    }

    /// Reads column `index` (in range) as `type`; `columnLabel` is built only for an error.
    private func decode<T: SQLValueDecodable>(
        _ type: T.Type, index: Int, columnLabel: @autoclosure () -> String
    ) throws(SQLDecodingError) -> T {
        let value = self[index]
        guard let decoded = T(sqlValue: value) else {
            throw .mismatch(column: columnLabel(), decodingAs: T.self, found: value, availableColumns: columns.names)
        }
        return decoded
    }
}
