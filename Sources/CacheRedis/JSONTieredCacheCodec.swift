import Foundation

/// Values as JSON (`JSONEncoder` / `JSONDecoder`): the codec for any `Codable` value.
///
/// ```swift
/// let codec = JSONTieredCacheCodec<Quote>(version: 2)   // raised when Quote's fields changed
/// ```
public struct JSONTieredCacheCodec<Value: Codable & Sendable>: TieredCacheCodec {
    /// The version of the encoding, stored with each value.
    public let version: UInt8

    /// A JSON codec of `version` (1 by default).
    public init(version: UInt8 = 1) {
        self.version = version
    }

    /// The JSON of `value`.
    public func encode(_ value: Value) throws -> [UInt8] {
        Array(try JSONEncoder().encode(value))
    }

    /// The value of the JSON `bytes`.
    public func decode(_ bytes: [UInt8]) throws -> Value {
        try JSONDecoder().decode(Value.self, from: Data(bytes))
    }
}
