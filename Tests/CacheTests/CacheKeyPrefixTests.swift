import Foundation
import Testing

@testable import Cache

/// The bytes of short `String` keys kept beside their entries: a match proves the keys equal,
/// at every length up to 24 bytes, and the cache still finds keys that are equal with other bytes.
@Suite struct CacheKeyPrefixTests {
    /// A string of `count` ASCII bytes whose bytes are all distinct from those of the same
    /// length with a later `variant`.
    func text(count: Int, variant: Int = 0) -> String {
        String(decoding: (0..<count).map { UInt8(97 + ($0 * 7 + variant) % 26) }, as: UTF8.self)
    }

    @Test func aKeyMatchesItsOwnBytesAndNoOtherAtEveryLength() {
        for count in 0...24 {
            let key = text(count: count)
            let prefix = CacheKeyPrefix(Optional(key))
            #expect(prefix.count == count)
            // An equal key with its own storage.
            #expect(prefix.matches(String(decoding: Array(key.utf8), as: UTF8.self)), "\(count)")
            guard count > 0 else { continue }
            // One byte changed, at each place.
            for place in 0..<count {
                var bytes = Array(key.utf8)
                bytes[place] = bytes[place] == 65 ? 66 : 65
                #expect(!prefix.matches(String(decoding: bytes, as: UTF8.self)), "\(count) at \(place)")
            }
            #expect(!prefix.matches(key + "x"), "longer")
            #expect(!prefix.matches(String(key.dropLast())), "shorter")
        }
    }

    @Test func longKeysAndOtherTypesKeepNothing() {
        #expect(CacheKeyPrefix(Optional(text(count: 25))).count == -1)
        #expect(!CacheKeyPrefix(Optional(text(count: 25))).matches(text(count: 25)))
        #expect(CacheKeyPrefix(Optional(42)).count == -1)
        #expect(!CacheKeyPrefix(Optional(42)).matches(42))
        #expect(CacheKeyPrefix(String?.none).count == -1)
    }

    @Test func theCacheFindsEqualKeysWhateverTheirBytes() throws {
        let cache = try Cache<String, Int, ContinuousClock>(maximumCapacity: 100, timeToLive: .seconds(60))
        // Precomposed é stored, decomposed é read: equal strings, different bytes.
        cache.insert(1, for: "caf\u{E9}")
        #expect(cache.value(for: "cafe\u{301}") == 1)
        for count in [0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 40] {
            cache.insert(count, for: text(count: count, variant: 3))
            #expect(cache.value(for: String(decoding: Array(text(count: count, variant: 3).utf8), as: UTF8.self)) == count)
            #expect(count == 0 || cache.value(for: text(count: count, variant: 4)) == nil)
        }
    }
}
