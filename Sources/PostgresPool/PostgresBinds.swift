import CLibPQ
import SQLCore

/// A statement's bind values in libpq's parameter arrays: explicit type OIDs, text format for
/// all but `bytea` (binary), `NULL` as a null pointer.
struct PostgresBinds {
    /// The parameters' type OIDs (0 for `NULL`: the server infers it).
    private(set) var types: [Oid] = []
    private var bytes: [UInt8] = []
    /// Each value's start in `bytes`, or -1 for `NULL`.
    private var offsets: [Int] = []
    private var lengths: [Int32] = []
    private var formats: [Int32] = []

    /// Encodes `values`.
    ///
    /// #### Errors
    /// ``PostgresError`` (client) for text containing a NUL character, which PostgreSQL cannot store.
    init(_ values: [SQLValue]) throws(PostgresError) {
        types.reserveCapacity(values.count)
        offsets.reserveCapacity(values.count)
        lengths.reserveCapacity(values.count)
        formats.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            switch value {
            case .null:
                types.append(PostgresTypeOID.unspecified)
                offsets.append(-1)
                lengths.append(0)
                formats.append(0)
                continue
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
                offsets.append(bytes.count)
                lengths.append(Int32(value.count))
                formats.append(1)
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

    private mutating func appendText(_ text: String, type: Oid) {
        types.append(type)
        offsets.append(bytes.count)
        let start = bytes.count
        bytes.append(contentsOf: text.utf8)
        lengths.append(Int32(bytes.count - start))
        formats.append(0)
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
            let base = raw.baseAddress?.assumingMemoryBound(to: CChar.self)
            return withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: max(offsets.count, 1)) {
                pointers in
                for (index, offset) in offsets.enumerated() {
                    pointers[index] = offset < 0 ? nil : UnsafePointer(base! + offset)
                }
                return types.withUnsafeBufferPointer { types in
                    lengths.withUnsafeBufferPointer { lengths in
                        formats.withUnsafeBufferPointer { formats in
                            body(
                                Int32(offsets.count), types.baseAddress, UnsafePointer(pointers.baseAddress),
                                lengths.baseAddress, formats.baseAddress)
                        }
                    }
                }
            }
        }
    }
}
