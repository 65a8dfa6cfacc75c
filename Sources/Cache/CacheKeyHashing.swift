/// How a ``Cache`` hashes and compares its keys: `String` keys by a seeded multiply-mix hash of
/// their UTF-8 bytes and a byte comparison, every other key by its `Hashable` conformance.
///
/// A `String`'s `hashValue` is SipHash-1-3 over its bytes, recomputed on every lookup (Java caches
/// a string's hash in the string): for a 20-byte key it cost as much as the rest of a hit. The
/// hash here reads the bytes eight at a time, two multiplications per 16 bytes, with a seed drawn
/// for each cache, so an attacker who does not know the seed cannot choose keys that collide (as
/// Go's maps are seeded; SipHash was designed to resist an attacker who sees hash outputs, which a
/// cache never shows).
///
/// It keeps `String`'s meaning of equality, Unicode canonical equivalence: two strings that are
/// `==` hash alike. Strings of ASCII bytes are hashed as their bytes, and so is any string whose
/// every character is canonically equivalent to ASCII, after mapping those characters to their
/// ASCII equivalents (only U+037E, U+1FEF and U+212A decompose to ASCII; Unicode's stability policy
/// adds no more). Every other string cannot equal an ASCII one, and is hashed by `hashValue`, which
/// Swift keeps consistent with `==` among them. A comparison first compares the bytes, and falls
/// back to `==` when they differ (a hash match with different bytes is rare).
@usableFromInline
enum CacheKeyHashing {
    /// The hash of `key` for a cache of `seed`.
    @inlinable @inline(__always)
    static func hash<Key: Hashable>(_ key: Key, seed: UInt64) -> Int {
        guard Key.self == String.self else { return key.hashValue }
        let string = unsafeBitCast(key, to: String.self)
        if let hash = string.utf8.withContiguousStorageIfAvailable({ asciiHash($0, seed: seed) }), let hash {
            return hash
        }
        return nonASCIIHash(string, seed: seed)
    }

    /// Whether `stored` and `key` are the same key.
    @inlinable @inline(__always)
    static func equal<Key: Hashable>(_ stored: Key, _ key: Key) -> Bool {
        guard Key.self == String.self else { return stored == key }
        let storedString = unsafeBitCast(stored, to: String.self)
        let string = unsafeBitCast(key, to: String.self)
        let count = string.utf8.count
        if storedString.utf8.count == count {
            let same = storedString.utf8.withContiguousStorageIfAvailable { storedBytes in
                string.utf8.withContiguousStorageIfAvailable { bytes in
                    bytesEqual(storedBytes.baseAddress, bytes.baseAddress, count: count)
                }
            }
            if same == true { return true }
        }
        return storedString == string
    }

    /// Whether `count` bytes at `first` and `second` are equal.
    @inlinable @inline(__always)
    static func bytesEqual(_ first: UnsafePointer<UInt8>?, _ second: UnsafePointer<UInt8>?, count: Int) -> Bool {
        guard count > 0, let first, let second else { return true }
        let firstRaw = UnsafeRawPointer(first)
        let secondRaw = UnsafeRawPointer(second)
        var offset = 0
        while offset + 8 <= count {
            if firstRaw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                != secondRaw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            {
                return false
            }
            offset += 8
        }
        while offset < count {
            if first[offset] != second[offset] { return false }
            offset += 1
        }
        return true
    }

    // MARK: The hash

    @inlinable static var prime0: UInt64 { 0xA076_1D64_78BD_642F }
    @inlinable static var prime1: UInt64 { 0xE703_7ED1_A0B4_28DB }
    @inlinable static var prime2: UInt64 { 0x8EBC_6AF0_9C88_C6E3 }
    @inlinable static var asciiMask: UInt64 { 0x8080_8080_8080_8080 }

    /// The high and low halves of the 128-bit product of `first` and `second`, folded together.
    @inlinable @inline(__always)
    static func mix(_ first: UInt64, _ second: UInt64) -> UInt64 {
        let product = first.multipliedFullWidth(by: second)
        return product.high ^ product.low
    }

    /// The hash of `bytes` when they are all ASCII, else `nil`.
    @inlinable @inline(__always)
    static func asciiHash(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt64) -> Int? {
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress else { return Int(truncatingIfNeeded: mix(seed ^ prime0, prime1)) }
        let raw = UnsafeRawPointer(base)
        var state = seed ^ mix(UInt64(count) ^ prime0, prime1)
        var highBits: UInt64 = 0
        var offset = 0
        while count - offset > 16 {
            let first = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            let second = raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
            highBits |= first | second
            state = mix(first ^ prime1, second ^ state)
            offset += 16
        }
        // The last 1 to 16 bytes, read as two words that may overlap each other (and bytes
        // already mixed): every byte is read, none outside the string.
        let remaining = count - offset
        var first: UInt64
        var second: UInt64
        if remaining >= 8 {
            first = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            second = raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        } else if remaining >= 4 {
            first = UInt64(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            second = UInt64(raw.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self))
        } else {
            first = UInt64(base[offset]) << 16 | UInt64(base[offset + remaining / 2]) << 8 | UInt64(base[count - 1])
            second = 0
        }
        highBits |= first | second
        guard highBits & asciiMask == 0 else { return nil }
        state = mix(first ^ prime1, second ^ state)
        return Int(truncatingIfNeeded: mix(state ^ prime2, UInt64(count) ^ prime1))
    }

    /// The hash of a string with a byte outside ASCII (or not stored contiguously).
    @usableFromInline
    static func nonASCIIHash(_ string: String, seed: UInt64) -> Int {
        var ascii: [UInt8] = []
        ascii.reserveCapacity(string.utf8.count)
        for scalar in string.unicodeScalars {
            switch scalar.value {
            case 0..<0x80: ascii.append(UInt8(scalar.value))
            case 0x037E: ascii.append(UInt8(ascii: ";"))  // GREEK QUESTION MARK
            case 0x1FEF: ascii.append(UInt8(ascii: "`"))  // GREEK VARIA
            case 0x212A: ascii.append(UInt8(ascii: "K"))  // KELVIN SIGN
            default: return string.hashValue
            }
        }
        return ascii.withUnsafeBufferPointer { asciiHash($0, seed: seed) }.unsafelyUnwrapped
    }
}
