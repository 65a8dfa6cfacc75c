import CLibPQ
import SQLCore

/// A statement's bind values in libpq's parameter arrays: explicit type OIDs, text format for
/// all but `bytea` (binary), `NULL` as a null pointer.
///
/// Two arrays: the type OIDs (also the statement cache's key) and one buffer holding each value as
/// its length (a native `Int32`, -1 for `NULL`), its bytes and a NUL. The arrays libpq takes are
/// laid out from them on the stack at each send.
struct PostgresBinds {
    /// The parameters' type OIDs (0 for `NULL`: the server infers it).
    private(set) var types: [Oid] = []
    /// Every value: its length, its bytes, a NUL.
    private var bytes: [UInt8] = []

    /// The size of a value's length in `bytes`.
    private static var lengthSize: Int { MemoryLayout<Int32>.size }

    /// Encodes `values`.
    ///
    /// #### Errors
    /// ``PostgresError`` (client) for text containing a NUL character, which PostgreSQL cannot store.
    init(_ values: [SQLValue]) throws(PostgresError) {
        guard !values.isEmpty else { return }
        types.reserveCapacity(values.count)
        bytes.reserveCapacity(values.count * 28)
        for (index, value) in values.enumerated() {
            switch value {
            case .null:
                types.append(PostgresTypeOID.unspecified)
                appendLength(-1)
            case .bool(let value): appendText(value ? "t" : "f", type: PostgresTypeOID.bool)
            case .int64(let value): appendText(String(value), type: PostgresTypeOID.int8)
            case .double(let value): appendText(Self.text(of: value), type: PostgresTypeOID.float8)
            case .text(let value):
                guard !value.utf8.contains(0) else {
                    throw .client("bind $\(index + 1) is text with a NUL character, which PostgreSQL cannot store")
                }
                appendText(value, type: PostgresTypeOID.text)
            case .blob(let value):
                types.append(PostgresTypeOID.bytea)
                appendLength(Int32(value.count))
                bytes.append(contentsOf: value)
                bytes.append(0)
            case .date(let value): appendText(SQLTimestamp.string(from: value), type: PostgresTypeOID.timestamptz)
            case .uuid(let value): appendText(value.uuidString, type: PostgresTypeOID.uuid)
            case .json(let value):
                guard !value.utf8.contains(0) else {
                    throw .client("bind $\(index + 1) is JSON with a NUL character, which PostgreSQL cannot store")
                }
                appendText(value, type: PostgresTypeOID.json)
            }
        }
    }

    var count: Int { types.count }

    private mutating func appendLength(_ length: Int32) {
        withUnsafeBytes(of: length) { bytes.append(contentsOf: $0) }
    }

    private mutating func appendText(_ text: String, type: Oid) {
        types.append(type)
        appendLength(Int32(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
        bytes.append(0)
    }

    /// PostgreSQL's spelling of a double: the shortest text that reads back exactly.
    static func text(of value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return "\(value)"
    }

    /// Calls `body` with libpq's parameter arrays, valid only during the call.
    func withParameters<Result>(
        _ body: (
            _ count: Int32, _ types: UnsafePointer<Oid>?, _ values: UnsafePointer<UnsafePointer<CChar>?>?,
            _ lengths: UnsafePointer<Int32>?, _ formats: UnsafePointer<Int32>?
        ) -> Result
    ) -> Result {
        bytes.withUnsafeBytes { raw in
            let count = max(types.count, 1)
            return withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: count) { pointers in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: count * 2) { lengthsAndFormats in
                    var offset = 0
                    for (index, type) in types.enumerated() {
                        let length = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                        offset += Self.lengthSize
                        if length < 0 {
                            pointers[index] = nil
                            lengthsAndFormats[index] = 0
                        } else {
                            pointers[index] = (raw.baseAddress! + offset).assumingMemoryBound(to: CChar.self)
                            lengthsAndFormats[index] = length
                            offset += Int(length) + 1
                        }
                        lengthsAndFormats[count + index] = type == PostgresTypeOID.bytea ? 1 : 0
                    }
                    return types.withUnsafeBufferPointer { types in
                        body(
                            Int32(types.count), types.baseAddress, UnsafePointer(pointers.baseAddress),
                            UnsafePointer(lengthsAndFormats.baseAddress),
                            UnsafePointer(lengthsAndFormats.baseAddress.map { $0 + count }))
                    }
                }
            }
        }
    }
}
