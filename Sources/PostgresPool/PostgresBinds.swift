import CLibPQ
import SQLCore

/// A statement's bind values in libpq's parameter arrays: explicit type OIDs, text format for
/// all but `bytea` (binary), `NULL` as a null pointer.
struct PostgresBinds {
    /// Where a value is in `bytes`, and its format.
    private struct Parameter {
        /// Its start in `bytes`, or -1 for `NULL`.
        var offset: Int32
        var length: Int32
        /// 0 for text, 1 for binary.
        var format: Int32
    }

    /// The parameters' type OIDs (0 for `NULL`: the server infers it).
    private(set) var types: [Oid] = []
    /// Every value, each followed by a NUL.
    private var bytes: [UInt8] = []
    private var parameters: [Parameter] = []

    /// Encodes `values`.
    ///
    /// #### Errors
    /// ``PostgresError`` (client) for text containing a NUL character, which PostgreSQL cannot store.
    init(_ values: [SQLValue]) throws(PostgresError) {
        guard !values.isEmpty else { return }
        types.reserveCapacity(values.count)
        parameters.reserveCapacity(values.count)
        bytes.reserveCapacity(values.count * 24)
        for (index, value) in values.enumerated() {
            switch value {
            case .null:
                types.append(PostgresTypeOID.unspecified)
                parameters.append(Parameter(offset: -1, length: 0, format: 0))
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
                parameters.append(Parameter(offset: Int32(bytes.count), length: Int32(value.count), format: 1))
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
        let start = bytes.count
        bytes.append(contentsOf: text.utf8)
        parameters.append(Parameter(offset: Int32(start), length: Int32(bytes.count - start), format: 0))
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
            let count = max(parameters.count, 1)
            return withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: count) { pointers in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: count * 2) { lengthsAndFormats in
                    for (index, parameter) in parameters.enumerated() {
                        pointers[index] = parameter.offset < 0 ? nil : UnsafePointer(base! + Int(parameter.offset))
                        lengthsAndFormats[index] = parameter.length
                        lengthsAndFormats[count + index] = parameter.format
                    }
                    return types.withUnsafeBufferPointer { types in
                        body(
                            Int32(parameters.count), types.baseAddress, UnsafePointer(pointers.baseAddress),
                            UnsafePointer(lengthsAndFormats.baseAddress),
                            UnsafePointer(lengthsAndFormats.baseAddress.map { $0 + count }))
                    }
                }
            }
        }
    }
}
