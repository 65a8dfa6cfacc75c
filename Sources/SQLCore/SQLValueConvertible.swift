#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A Swift type that can be sent to the database as a bind parameter.
///
/// Interpolating a value of such a type into an ``SQLStatement`` makes it a bind, never SQL
/// text. Conform your own types (an enum with a raw value, a money type) by returning one
/// of the ``SQLValue`` cases.
public protocol SQLValueEncodable: Sendable {
    /// The value sent to the database.
    var sqlValue: SQLValue { get }
}

/// A Swift type that can be read from a result column.
///
/// ``SQLRow/decode(_:_:)`` uses it. Conversions are strict: a value that does not fit
/// (a `text` read as `Int`, an `int64` too large for `Int32`, `NULL` read as a non-optional)
/// is an error, never a silent default.
public protocol SQLValueDecodable {
    /// Creates a value from a column's value, or returns `nil` when it does not fit.
    init?(sqlValue: SQLValue)
}

/// A Swift type that is both a bind parameter and a column type.
public typealias SQLValueConvertible = SQLValueEncodable & SQLValueDecodable

extension SQLValue: SQLValueEncodable, SQLValueDecodable {
    /// The value itself.
    public var sqlValue: SQLValue { self }

    /// Any value, `NULL` included.
    public init?(sqlValue: SQLValue) { self = sqlValue }
}

extension Int64: SQLValueEncodable, SQLValueDecodable {
    /// ``SQLValue/int64(_:)``.
    public var sqlValue: SQLValue { .int64(self) }

    /// From ``SQLValue/int64(_:)``.
    public init?(sqlValue: SQLValue) {
        guard case .int64(let value) = sqlValue else { return nil }
        self = value
    }
}

extension Int: SQLValueEncodable, SQLValueDecodable {
    /// ``SQLValue/int64(_:)``.
    public var sqlValue: SQLValue { .int64(Int64(self)) }

    /// From ``SQLValue/int64(_:)`` when it fits.
    public init?(sqlValue: SQLValue) {
        guard case .int64(let value) = sqlValue, let exact = Int(exactly: value) else { return nil }
        self = exact
    }
}

extension Int32: SQLValueEncodable, SQLValueDecodable {
    /// ``SQLValue/int64(_:)``.
    public var sqlValue: SQLValue { .int64(Int64(self)) }

    /// From ``SQLValue/int64(_:)`` when it fits in 32 bits.
    public init?(sqlValue: SQLValue) {
        guard case .int64(let value) = sqlValue, let exact = Int32(exactly: value) else { return nil }
        self = exact
    }
}

extension Double: SQLValueEncodable, SQLValueDecodable {
    /// ``SQLValue/double(_:)``.
    public var sqlValue: SQLValue { .double(self) }

    /// From ``SQLValue/double(_:)``, or from ``SQLValue/int64(_:)`` when the integer is exactly
    /// representable (SQLite returns aggregates such as `SUM` over whole numbers as integers).
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .double(let value): self = value
        case .int64(let value):
            guard let exact = Double(exactly: value) else { return nil }
            self = exact
        default: return nil
        }
    }
}

extension Bool: SQLValueEncodable, SQLValueDecodable {
    /// ``SQLValue/bool(_:)``.
    public var sqlValue: SQLValue { .bool(self) }

    /// From ``SQLValue/bool(_:)``, or from ``SQLValue/int64(_:)`` 0 or 1 (SQLite's booleans).
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .bool(let value): self = value
        case .int64(0): self = false
        case .int64(1): self = true
        default: return nil
        }
    }
}

extension String: SQLValueEncodable, SQLValueDecodable {
    /// ``SQLValue/text(_:)``.
    public var sqlValue: SQLValue { .text(self) }

    /// From ``SQLValue/text(_:)`` or the text of ``SQLValue/json(_:)``.
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .text(let value), .json(let value): self = value
        default: return nil
        }
    }
}

extension [UInt8]: SQLValueEncodable, SQLValueDecodable {
    /// ``SQLValue/blob(_:)``.
    public var sqlValue: SQLValue { .blob(self) }

    /// From ``SQLValue/blob(_:)``.
    public init?(sqlValue: SQLValue) {
        guard case .blob(let value) = sqlValue else { return nil }
        self = value
    }
}

extension Data: SQLValueEncodable, SQLValueDecodable {
    /// ``SQLValue/blob(_:)``.
    public var sqlValue: SQLValue { .blob(Array(self)) }

    /// From ``SQLValue/blob(_:)``.
    public init?(sqlValue: SQLValue) {
        guard case .blob(let value) = sqlValue else { return nil }
        self = Data(value)
    }
}

extension Date: SQLValueEncodable, SQLValueDecodable {
    /// ``SQLValue/date(_:)``.
    public var sqlValue: SQLValue { .date(self) }

    /// From ``SQLValue/date(_:)``, or from ``SQLValue/text(_:)`` in a form ``SQLTimestamp``
    /// parses (how SQLite stores dates).
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .date(let value): self = value
        case .text(let text):
            guard let value = SQLTimestamp.date(from: text) else { return nil }
            self = value
        default: return nil
        }
    }
}

extension UUID: SQLValueEncodable, SQLValueDecodable {
    /// ``SQLValue/uuid(_:)``.
    public var sqlValue: SQLValue { .uuid(self) }

    /// From ``SQLValue/uuid(_:)``, from its text form (how SQLite stores UUIDs),
    /// or from 16 bytes of ``SQLValue/blob(_:)``.
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .uuid(let value): self = value
        case .text(let text):
            guard let value = UUID(uuidString: text) else { return nil }
            self = value
        case .blob(let bytes) where bytes.count == 16:
            self = UUID(uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        default: return nil
        }
    }
}

extension Optional: SQLValueEncodable where Wrapped: SQLValueEncodable {
    /// The wrapped value's, or ``SQLValue/null``.
    public var sqlValue: SQLValue {
        switch self {
        case .none: .null
        case .some(let wrapped): wrapped.sqlValue
        }
    }
}

extension Optional: SQLValueDecodable where Wrapped: SQLValueDecodable {
    /// `nil` from ``SQLValue/null``, otherwise the wrapped type's conversion.
    public init?(sqlValue: SQLValue) {
        if case .null = sqlValue {
            self = .none
        } else if let wrapped = Wrapped(sqlValue: sqlValue) {
            self = .some(wrapped)
        } else {
            return nil
        }
    }
}
