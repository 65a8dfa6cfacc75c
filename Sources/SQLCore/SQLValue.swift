#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A value sent to or read from a SQL database: a bind parameter or a result column.
///
/// Backends map each case to their wire type: PostgreSQL sends `bool`, `int8`, `float8`,
/// `text`, `bytea`, `timestamptz`, `uuid` and `jsonb`; SQLite stores booleans as integers,
/// dates as ISO 8601 text in UTC, UUIDs as text and JSON as text.
///
/// ```swift
/// let values: [SQLValue] = [.int64(42), .text("BTC"), .null]
/// ```
///
/// A value's ``description`` names its kind and size but never its content, because
/// values are bind parameters and may be secrets. Use ``unredactedDescription`` when you
/// really need to see one.
public enum SQLValue: Sendable, Hashable {
    /// SQL `NULL`.
    case null
    /// A boolean.
    case bool(Bool)
    /// A 64-bit signed integer.
    case int64(Int64)
    /// A double-precision floating point number.
    case double(Double)
    /// Text, UTF-8 encoded on the wire.
    case text(String)
    /// Raw bytes (`bytea` in PostgreSQL, `BLOB` in SQLite).
    case blob([UInt8])
    /// A point in time (`timestamptz` in PostgreSQL), with microsecond precision on the wire.
    case date(Date)
    /// A UUID.
    case uuid(UUID)
    /// A JSON document, as its text.
    case json(String)

    /// Whether this is ``null``.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The name of this value's kind, as used in error messages: `"int64"`, `"text"`, ...
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int64: "int64"
        case .double: "double"
        case .text: "text"
        case .blob: "blob"
        case .date: "date"
        case .uuid: "uuid"
        case .json: "json"
        }
    }

    /// The value with its content, for debugging only: never log it by default.
    public var unredactedDescription: String {
        switch self {
        case .null: "NULL"
        case .bool(let value): "bool(\(value))"
        case .int64(let value): "int64(\(value))"
        case .double(let value): "double(\(value))"
        case .text(let value): "text(\(String(reflecting: value)))"
        case .blob(let value): "blob(\(value.count) bytes)"
        case .date(let value): "date(\(SQLTimestamp.string(from: value)))"
        case .uuid(let value): "uuid(\(value.uuidString))"
        case .json(let value): "json(\(value))"
        }
    }
}

extension SQLValue: CustomStringConvertible {
    /// The value's kind and size, never its content: `text(5 bytes)`, `int64`, `NULL`.
    public var description: String {
        switch self {
        case .null: "NULL"
        case .text(let value), .json(let value): "\(kindName)(\(value.utf8.count) bytes)"
        case .blob(let value): "blob(\(value.count) bytes)"
        default: kindName
        }
    }
}
