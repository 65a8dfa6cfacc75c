import CLibPQ
import Foundation
import SQLCore

/// Reads PostgreSQL's binary output format into ``SQLValue``s, for the types where it is cheaper
/// than text and decodes to the same value.
///
/// A prepared statement's results come in binary once a first result (in text) showed that every
/// column has one of these types (see ``PostgresStatementCache/Prepared/binaryResults``): integers
/// and `float8` are read from their bytes instead of parsed, `bytea` arrives as its bytes rather
/// than hexadecimal digits, `timestamp`, `timestamptz` and `date` as counts of microseconds or days
/// rather than text, `uuid` as its 16 bytes; text types and `json` arrive as in text.
///
/// Left to text: `float4` (its text is the shortest decimal that reads back as the same `Float`,
/// which parses to a different `Double` than the `Float`'s own value), `numeric` (a base-10000
/// format), `jsonb` and every type Keel does not map.
enum PostgresBinaryDecoder {
    /// Whether values of `type` are decoded here.
    static func decodes(_ type: Oid) -> Bool {
        switch type {
        case PostgresTypeOID.bool, PostgresTypeOID.int2, PostgresTypeOID.int4, PostgresTypeOID.int8, PostgresTypeOID.oid,
            PostgresTypeOID.float8, PostgresTypeOID.text, PostgresTypeOID.varchar, PostgresTypeOID.bpchar, PostgresTypeOID.name,
            PostgresTypeOID.bytea, PostgresTypeOID.uuid, PostgresTypeOID.json, PostgresTypeOID.timestamp,
            PostgresTypeOID.timestamptz, PostgresTypeOID.date:
            true
        default:
            false
        }
    }

    /// Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01 (both UTC).
    static let epochSeconds: Int64 = 946_684_800

    /// Decodes one value of type `type` from `length` bytes at `pointer`, in binary format. A type
    /// not decoded here, or bytes of the wrong size, arrive as a blob of the bytes.
    static func value(type: Oid, pointer: UnsafePointer<CChar>, length: Int) -> SQLValue {
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        switch (type, length) {
        case (PostgresTypeOID.bool, 1):
            return .bool(bytes[0] != 0)
        case (PostgresTypeOID.int2, 2):
            return .int64(Int64(Int16(bigEndian: bytes.loadUnaligned(as: Int16.self))))
        case (PostgresTypeOID.int4, 4):
            return .int64(Int64(Int32(bigEndian: bytes.loadUnaligned(as: Int32.self))))
        case (PostgresTypeOID.oid, 4):
            return .int64(Int64(UInt32(bigEndian: bytes.loadUnaligned(as: UInt32.self))))
        case (PostgresTypeOID.int8, 8):
            return .int64(Int64(bigEndian: bytes.loadUnaligned(as: Int64.self)))
        case (PostgresTypeOID.float8, 8):
            return .double(Double(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))))
        case (PostgresTypeOID.text, _), (PostgresTypeOID.varchar, _), (PostgresTypeOID.bpchar, _), (PostgresTypeOID.name, _):
            return .text(String(decoding: bytes, as: UTF8.self))
        case (PostgresTypeOID.json, _):
            return .json(String(decoding: bytes, as: UTF8.self))
        case (PostgresTypeOID.uuid, 16):
            return .uuid(UUID(uuid: bytes.loadUnaligned(as: uuid_t.self)))
        case (PostgresTypeOID.timestamp, 8), (PostgresTypeOID.timestamptz, 8):
            let micros = Int64(bigEndian: bytes.loadUnaligned(as: Int64.self))
            if micros == .max { return .text("infinity") }
            if micros == .min { return .text("-infinity") }
            // As the text decoder builds it: whole seconds since 1970, then the microseconds.
            let (seconds, fraction) = Self.floorDivision(micros, by: 1_000_000)
            return .date(Date(timeIntervalSince1970: Double(seconds + epochSeconds) + Double(fraction) / 1_000_000))
        case (PostgresTypeOID.date, 4):
            let days = Int32(bigEndian: bytes.loadUnaligned(as: Int32.self))
            if days == .max { return .text("infinity") }
            if days == .min { return .text("-infinity") }
            return .date(Date(timeIntervalSince1970: Double(Int64(days) * 86_400 + epochSeconds)))
        default:
            return .blob(Array(bytes))
        }
    }

    /// `value / divisor` rounded down, and the remainder, which is never negative.
    static func floorDivision(_ value: Int64, by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
