import SQLCore

/// PostgreSQL array literals (`{1,2,NULL}`, `{"a","b\"c"}`) of one column's values, sent as one
/// text bind and cast to the column's array type: how the fast path sends a whole column at once.
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
        var text = "{"
        var first = true
        for value in values {
            if !first { text.append(",") }
            first = false
            switch value {
            case .null: text.append("NULL")
            case .bool(let flag): text.append(flag ? "t" : "f")
            case .int64(let number): text.append(String(number))
            case .double(let number): text.append(String(number))
            case .text(let string), .json(let string): appendQuoted(string, to: &text)
            case .blob(let bytes):
                var hex = "\\x"
                hex.reserveCapacity(2 + bytes.count * 2)
                for byte in bytes {
                    hex.append(hexDigits[Int(byte >> 4)])
                    hex.append(hexDigits[Int(byte & 0x0F)])
                }
                appendQuoted(hex, to: &text)
            case .date(let date): appendQuoted(SQLTimestamp.string(from: date), to: &text)
            case .uuid(let uuid): text.append(uuid.uuidString)
            }
        }
        text.append("}")
        return text
    }

    private static let hexDigits: [Character] = Array("0123456789abcdef")

    /// An element in double quotes, with `"` and `\` escaped by a backslash.
    private static func appendQuoted(_ string: String, to text: inout String) {
        text.append("\"")
        for scalar in string.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { text.unicodeScalars.append("\\") }
            text.unicodeScalars.append(scalar)
        }
        text.append("\"")
    }
}
