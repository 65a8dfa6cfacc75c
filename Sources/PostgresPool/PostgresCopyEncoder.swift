import SQLCore

/// Encodes rows in `COPY … FROM STDIN`'s text format: tab-separated, `\N` for NULL, backslash
/// escapes for backslash, tab, newline and carriage return.
struct PostgresCopyEncoder {
    var buffer: [UInt8] = []

    init() {
        buffer.reserveCapacity(1 << 16 + 4096)
    }

    /// Appends one row.
    ///
    /// #### Errors
    /// ``PostgresError`` (client) for text containing a NUL character.
    mutating func append(_ row: [SQLValue]) throws(PostgresError) {
        for (index, value) in row.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: "\t")) }
            switch value {
            case .null: buffer.append(contentsOf: #"\N"#.utf8)
            case .bool(let value): buffer.append(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
            case .int64(let value): buffer.append(contentsOf: String(value).utf8)
            case .double(let value): buffer.append(contentsOf: PostgresBinds.text(of: value).utf8)
            case .text(let value), .json(let value): try appendEscaped(value)
            case .blob(let value):
                buffer.append(contentsOf: #"\\x"#.utf8)
                let digits = Array("0123456789abcdef".utf8)
                for byte in value {
                    buffer.append(digits[Int(byte >> 4)])
                    buffer.append(digits[Int(byte & 0x0f)])
                }
            case .date(let value): buffer.append(contentsOf: SQLTimestamp.string(from: value).utf8)
            case .uuid(let value): buffer.append(contentsOf: value.uuidString.utf8)
            }
        }
        buffer.append(UInt8(ascii: "\n"))
    }

    private mutating func appendEscaped(_ text: String) throws(PostgresError) {
        for byte in text.utf8 {
            switch byte {
            case 0: throw .client("a COPY value is text with a NUL character, which PostgreSQL cannot store")
            case UInt8(ascii: "\\"): buffer.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\t"): buffer.append(contentsOf: #"\t"#.utf8)
            case UInt8(ascii: "\n"): buffer.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): buffer.append(contentsOf: #"\r"#.utf8)
            default: buffer.append(byte)
            }
        }
    }
}
