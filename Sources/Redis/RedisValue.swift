/// A reply from Redis (RESP2), an error reply excepted: those are thrown as ``RedisError`` with
/// code ``RedisError/Code/server``.
public enum RedisValue: Sendable, Hashable {
    /// A simple string, such as `OK` or `PONG`.
    case simpleString(String)
    /// A bulk string: the bytes of a value.
    case bulkString([UInt8])
    /// An integer.
    case integer(Int64)
    /// An array of replies (`LRANGE`, `EXEC`, a pub/sub message).
    case array([RedisValue])
    /// No value (a missing key, a timed-out `BLPOP`).
    case null

    /// The value as UTF-8 text: a simple or bulk string (bytes that are not UTF-8 are repaired),
    /// or an integer's digits; `nil` otherwise.
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        case .integer(let value): String(value)
        case .array, .null: nil
        }
    }

    /// The value as an integer: an integer reply, or a string of digits; `nil` otherwise.
    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .simpleString(let text): Int64(text)
        case .bulkString(let bytes): Int64(String(decoding: bytes, as: UTF8.self))
        case .array, .null: nil
        }
    }

    /// The bytes of a bulk or simple string; `nil` otherwise.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let text): Array(text.utf8)
        case .integer, .array, .null: nil
        }
    }

    /// The elements of an array reply; `nil` otherwise.
    public var array: [RedisValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether the reply is ``null``.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension RedisValue: CustomStringConvertible {
    /// The reply as `redis-cli` shows it, strings quoted.
    public var description: String {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes): "\"\(String(decoding: bytes, as: UTF8.self))\""
        case .integer(let value): "(integer) \(value)"
        case .array(let elements): "[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .null: "(nil)"
        }
    }
}
