import CLibPQ
import Foundation
import SQLCore

/// Reads PostgreSQL's text output format into ``SQLValue``s by column type.
///
/// Results come in text format, which covers every type (extensions and arrays included) with one
/// code path; a prepared statement whose columns all have types ``PostgresBinaryDecoder`` decodes
/// has its later results in binary.
/// `numeric` arrives as `int64` when whole and in range, otherwise as `double` (cast to `text`
/// in SQL for exact decimals); `timestamp`, `timestamptz` and `date` as dates (the connection
/// uses `DateStyle=ISO`); types Keel does not map arrive as their text.
enum PostgresTextDecoder {
    /// Decodes one value of type `type` from `length` bytes at `pointer`.
    static func value(type: Oid, pointer: UnsafePointer<CChar>, length: Int) -> SQLValue {
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length).bindMemory(to: UInt8.self)
        switch type {
        case PostgresTypeOID.bool:
            return .bool(length > 0 && bytes[0] == UInt8(ascii: "t"))
        case PostgresTypeOID.int8, PostgresTypeOID.int4, PostgresTypeOID.int2, PostgresTypeOID.oid:
            if let value = integer(bytes) { return .int64(value) }
        case PostgresTypeOID.float8, PostgresTypeOID.float4:
            if let value = Double(String(decoding: bytes, as: UTF8.self)) { return .double(value) }
        case PostgresTypeOID.numeric:
            if let value = integer(bytes) { return .int64(value) }
            if let value = Double(String(decoding: bytes, as: UTF8.self)) { return .double(value) }
        case PostgresTypeOID.bytea:
            if let value = hexBytes(bytes) { return .blob(value) }
        case PostgresTypeOID.timestamptz, PostgresTypeOID.timestamp, PostgresTypeOID.date:
            if let value = SQLTimestamp.date(from: String(decoding: bytes, as: UTF8.self)) { return .date(value) }
        case PostgresTypeOID.uuid:
            if let value = UUID(uuidString: String(decoding: bytes, as: UTF8.self)) { return .uuid(value) }
        case PostgresTypeOID.json, PostgresTypeOID.jsonb:
            return .json(String(decoding: bytes, as: UTF8.self))
        default:
            break
        }
        return .text(String(decoding: bytes, as: UTF8.self))
    }

    /// A decimal integer (optional sign), or `nil` when the text is not one or out of range.
    static func integer(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard !bytes.isEmpty else { return nil }
        var index = 0
        let negative = bytes[0] == UInt8(ascii: "-")
        if negative || bytes[0] == UInt8(ascii: "+") { index = 1 }
        guard index < bytes.count else { return nil }
        var value: Int64 = 0
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) =
                negative ? times10.subtractingReportingOverflow(Int64(digit)) : times10.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        return value
    }

    /// `bytea` in hex output format (`\x0a1b…`).
    static func hexBytes(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x"), bytes.count % 2 == 0 else {
            return nil
        }
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var result = [UInt8]()
        result.reserveCapacity((bytes.count - 2) / 2)
        var index = 2
        while index < bytes.count {
            guard let high = nibble(bytes[index]), let low = nibble(bytes[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }
}
