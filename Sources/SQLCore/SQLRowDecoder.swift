#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decodes a `Decodable` type from a row, one property per column. See ``SQLRow/decode(_:)``.
struct SQLRowDecoder: Decoder {
    let row: SQLRow
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(SQLRowKeyedContainer<Key>(row: row))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch(
            [SQLValue].self,
            .init(codingPath: [], debugDescription: "a row decodes into a keyed type (a struct with one property per column)"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        guard row.count == 1 else {
            throw DecodingError.typeMismatch(
                SQLValue.self,
                .init(codingPath: [], debugDescription: "a single value needs a one-column row, this one has \(row.count)"))
        }
        return SQLColumnDecoder(row: row, index: 0, codingPath: [])
    }
}

/// The keyed container of ``SQLRowDecoder``: a key is a column name.
struct SQLRowKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let row: SQLRow
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { row.columns.names.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { row.columns.index(of: key.stringValue) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let index = row.columns.index(of: key.stringValue) else { return true }
        return row.values[index].isNull
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let index = row.columns.index(of: key.stringValue) else {
            throw SQLDecodingError.missing(
                column: "\"\(key.stringValue)\"", decodingAs: T.self, availableColumns: row.columns.names)
        }
        if let decodable = T.self as? any SQLValueDecodable.Type {
            return try Self.decode(decodable, row: row, index: index, key: key) as! T
        }
        return try SQLColumnDecoder(row: row, index: index, codingPath: [key]).decodeNested(T.self)
    }

    private static func decode<D: SQLValueDecodable>(_ type: D.Type, row: SQLRow, index: Int, key: Key) throws -> D {
        try row.decode(D.self, index: index, columnLabel: "\"\(key.stringValue)\"")
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        throw DecodingError.typeMismatch(
            type, .init(codingPath: [key], debugDescription: "nested containers are read from JSON columns"))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch(
            [SQLValue].self, .init(codingPath: [key], debugDescription: "nested containers are read from JSON columns"))
    }

    func superDecoder() throws -> any Decoder { SQLRowDecoder(row: row) }
    func superDecoder(forKey key: Key) throws -> any Decoder { SQLRowDecoder(row: row) }
}

/// Decodes one column: a `RawRepresentable` enum or another single-value type through its
/// raw value, and a keyed or unkeyed type (a nested struct, an array) from JSON text.
struct SQLColumnDecoder: Decoder, SingleValueDecodingContainer {
    let row: SQLRow
    let index: Int
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    private struct NeedsJSON: Error {}

    func decodeNested<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try T(from: self)
        } catch is NeedsJSON {
            guard let text = String(sqlValue: row.values[index]) else {
                throw SQLDecodingError(
                    code: .typeMismatch, column: "\"\(row.columns.names[index])\"",
                    expectedType: "\(T.self) (from JSON)", foundKind: row.values[index].kindName,
                    availableColumns: row.columns.names)
            }
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw NeedsJSON() }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw NeedsJSON() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { row.values[index].isNull }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let decodable = T.self as? any SQLValueDecodable.Type {
            return try Self.decode(decodable, row: row, index: index) as! T
        }
        return try SQLColumnDecoder(row: row, index: index, codingPath: codingPath).decodeNested(T.self)
    }

    private static func decode<D: SQLValueDecodable>(_ type: D.Type, row: SQLRow, index: Int) throws -> D {
        try row.decode(D.self, index: index, columnLabel: "\"\(row.columns.names[index])\"")
    }

    func decode(_ type: Bool.Type) throws -> Bool { try decode(type, as: Bool.self) }
    func decode(_ type: String.Type) throws -> String { try decode(type, as: String.self) }
    func decode(_ type: Double.Type) throws -> Double { try decode(type, as: Double.self) }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self, as: Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try decode(type, as: Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try narrow(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try narrow(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decode(type, as: Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decode(type, as: Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try narrow(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try narrow(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try narrow(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try narrow(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try narrow(type) }

    private func decode<T: SQLValueDecodable>(_ type: T.Type, as: T.Type) throws -> T {
        try row.decode(T.self, index: index, columnLabel: "\"\(row.columns.names[index])\"")
    }

    private func narrow<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let wide = try decode(Int64.self, as: Int64.self)
        guard let value = T(exactly: wide) else {
            throw SQLDecodingError(
                code: .typeMismatch, column: "\"\(row.columns.names[index])\"", expectedType: String(describing: T.self),
                foundKind: "int64 out of range", availableColumns: row.columns.names)
        }
        return value
    }
}
