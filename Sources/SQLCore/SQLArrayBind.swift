/// A list of values sent as one bind: a PostgreSQL array literal (`{1,2,NULL}`,
/// `{"a","b\"c"}`) as text, cast to ``arrayType`` in the SQL (`key = ANY($1::bigint[])`), so a
/// statement's text stays the same whatever the number of values. Made by
/// ``SQLDialect/arrayBind(of:)`` for a dialect that ``SQLDialect/Capabilities/arrayBinds``.
///
/// ```swift
/// let keys: [SQLValue] = [.int64(1), .int64(2)]
/// if let array = SQLDialect.postgres.arrayBind(of: keys) {
///     var filter = SQLStatement(unsafeRaw: "id = ANY(")
///     filter.append(bind: array.value)              // .text("{1,2}")
///     filter.append(unsafeRaw: "::\(array.arrayType))")  // bigint[]
/// }
/// ```
public struct SQLArrayBind: Sendable, Hashable {
    /// The bind: the array literal as text.
    public let value: SQLValue
    /// The SQL array type the bind is cast to, such as `bigint[]`.
    public let arrayType: String
}

extension SQLDialect {
    /// `values` as one array bind, or `nil` when the dialect has no array binds, or when the
    /// values mix kinds or are all NULL (they have no one array type).
    public func arrayBind(of values: some Collection<SQLValue>) -> SQLArrayBind? {
        guard supports(.arrayBinds), let type = PostgresArrayLiteral.arrayType(of: values) else { return nil }
        return SQLArrayBind(value: .text(PostgresArrayLiteral.literal(of: values)), arrayType: type)
    }
}

/// PostgreSQL's text form of arrays of one column's values.
enum PostgresArrayLiteral {
    /// The array type of values of one kind, or `nil` when they mix kinds or are all NULL.
    static func arrayType(of values: some Sequence<SQLValue>) -> String? {
        var type: String?
        for value in values {
            let valueType: String
            switch value {
            case .null: continue
            case .bool: valueType = "boolean[]"
            case .int64: valueType = "bigint[]"
            case .double: valueType = "double precision[]"
            case .text: valueType = "text[]"
            case .blob: valueType = "bytea[]"
            case .date: valueType = "timestamptz[]"
            case .uuid: valueType = "uuid[]"
            case .json: valueType = "json[]"
            }
            if let type, type != valueType { return nil }
            type = valueType
        }
        return type
    }

    /// The literal of `values`.
    static func literal(of values: some Sequence<SQLValue>) -> String {
        // Built as UTF-8 bytes: appending to a String piece by piece costs several times more.
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(values.underestimatedCount * 12 + 2)
        var first = true
        for value in values {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            switch value {
            case .null: bytes.append(contentsOf: "NULL".utf8)
            case .bool(let flag): bytes.append(UInt8(ascii: flag ? "t" : "f"))
            case .int64(let number): bytes.append(contentsOf: String(number).utf8)
            case .double(let number): bytes.append(contentsOf: String(number).utf8)
            case .text(let string), .json(let string): appendQuoted(string.utf8, to: &bytes)
            case .blob(let data):
                // bytea's hex format, quoted: "\\x0a1b" (the backslash escaped for the array).
                bytes.append(contentsOf: #""\\x"#.utf8)
                for byte in data {
                    bytes.append(hexDigits[Int(byte >> 4)])
                    bytes.append(hexDigits[Int(byte & 0x0F)])
                }
                bytes.append(UInt8(ascii: "\""))
            case .date(let date): appendQuoted(SQLTimestamp.string(from: date).utf8, to: &bytes)
            case .uuid(let uuid): bytes.append(contentsOf: uuid.uuidString.utf8)
            }
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// An element in double quotes, with `"` and `\` escaped by a backslash.
    private static func appendQuoted(_ string: String.UTF8View, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
