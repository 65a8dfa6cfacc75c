/// The UTF-8 bytes of a short `String` key (24 bytes at most), kept beside its entry, so that a
/// hit compares them without reading the key's own storage, which would be a cache miss of its
/// own. Other keys, and longer strings, keep nothing and are compared as keys.
@usableFromInline
struct CacheKeyPrefix: Sendable {
    @usableFromInline var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
    /// How many bytes are kept; -1 when none are.
    @usableFromInline var count = -1

    /// The bytes of `key` when it is a short native `String`, else none.
    @inlinable init<Key>(_ key: Key?) {
        guard Key.self == String.self, let key else { return }
        let string = unsafeBitCast(key, to: String.self)
        let kept: Int? = string.utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.count <= 24 else { return nil }
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
            return bytes.count
        } ?? nil
        count = kept ?? -1
    }

    /// Whether `key` is a `String` whose bytes are the kept ones (then it equals the key kept);
    /// `false` proves nothing.
    @inlinable @inline(__always)
    func matches<Key>(_ key: Key) -> Bool {
        guard Key.self == String.self, count >= 0 else { return false }
        let string = unsafeBitCast(key, to: String.self)
        guard string.utf8.count == count else { return false }
        let words = words
        return string.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard let base = bytes.baseAddress else { return true }
            let probe = UnsafeRawPointer(base)
            if count < 8 {
                var word: UInt64 = 0
                for offset in 0..<count { word |= UInt64(probe.load(fromByteOffset: offset, as: UInt8.self)) << (8 * offset) }
                return word == words.0
            }
            // Whole words, then the last bytes from a load ending at the last byte, shifted down.
            let whole = count / 8
            if probe.loadUnaligned(as: UInt64.self) != words.0 { return false }
            if whole >= 2 && probe.loadUnaligned(fromByteOffset: 8, as: UInt64.self) != words.1 { return false }
            if whole == 3 && probe.loadUnaligned(fromByteOffset: 16, as: UInt64.self) != words.2 { return false }
            let rest = count % 8
            guard rest > 0 else { return true }
            let last = probe.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) >> UInt64(8 * (8 - rest))
            return last == (whole == 1 ? words.1 : words.2)
        } ?? false
    }
}
