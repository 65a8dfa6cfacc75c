/// The 64-bit FNV-1a hash, for checksums and lock keys that must be the same in every process
/// (Swift's `Hasher` is seeded per process).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    /// Mixes in the UTF-8 bytes of `text`, then a separator byte, so that ("ab", "c") and
    /// ("a", "bc") hash differently.
    mutating func mix(_ text: String) {
        for byte in text.utf8 { mix(byte: byte) }
        mix(byte: 0xff)
    }

    private mutating func mix(byte: UInt8) {
        value ^= UInt64(byte)
        value &*= 0x0000_0100_0000_01b3
    }
}
