/// How a ``TieredCache`` turns values into the bytes it keeps in Redis, and back.
///
/// The ``version`` is stored with every value: a reader whose codec has another version treats
/// the stored value as missing (and fetches and stores its own), so changing a value's type never
/// makes a process of the old or the new code fail on what the other wrote. Raise it whenever the
/// encoding changes.
///
/// ```swift
/// struct PriceCodec: TieredCacheCodec {
///     let version: UInt8 = 1
///     func encode(_ value: Double) throws -> [UInt8] { Array(String(value).utf8) }
///     func decode(_ bytes: [UInt8]) throws -> Double {
///         guard let value = Double(String(decoding: bytes, as: UTF8.self)) else { throw DecodingFailure() }
///         return value
///     }
/// }
/// ```
public protocol TieredCacheCodec<Value>: Sendable {
    /// The type of the values.
    associatedtype Value: Sendable

    /// The version of the encoding, stored with each value.
    var version: UInt8 { get }

    /// The bytes of `value`.
    func encode(_ value: Value) throws -> [UInt8]

    /// The value `bytes` encode (as written by ``encode(_:)`` of the same version).
    func decode(_ bytes: [UInt8]) throws -> Value
}
