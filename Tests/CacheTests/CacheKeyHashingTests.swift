import Foundation
import Testing

@testable import Cache

/// `String` keys' hash and comparison: equal strings (canonically equivalent ones included) are one
/// key, different strings are different keys, at every length the hash reads in its own way.
@Suite struct CacheKeyHashingTests {
    let seed: UInt64 = 0x1234_5678_9ABC_DEF0

    /// Pairs of strings Swift calls equal whose bytes differ.
    let equivalentPairs: [(String, String)] = [
        ("K", "\u{212A}"),  // KELVIN SIGN
        ("a;b", "a\u{037E}b"),  // GREEK QUESTION MARK
        ("`", "\u{1FEF}"),  // GREEK VARIA
        ("token-symbol-\u{212A}-long-enough-to-loop", "token-symbol-K-long-enough-to-loop"),
        ("caf\u{E9}", "cafe\u{301}"),  // precomposed and decomposed é
        ("\u{1E69}-more-than-sixteen-bytes", "s\u{323}\u{307}-more-than-sixteen-bytes"),
    ]

    @Test func canonicallyEquivalentStringsHashAlikeAndCompareEqual() {
        for (first, second) in equivalentPairs {
            #expect(first == second)
            #expect(Array(first.utf8) != Array(second.utf8))
            #expect(CacheKeyHashing.hash(first, seed: seed) == CacheKeyHashing.hash(second, seed: seed), "\(first)")
            #expect(CacheKeyHashing.equal(first, second))
            #expect(CacheKeyHashing.equal(second, first))
        }
    }

    @Test func everyLengthIsHashedFromAllItsBytes() {
        // Changing any one byte of a string of any length from 0 to 40 changes its hash.
        for length in 0...40 {
            let base = String(repeating: "a", count: length)
            let hash = CacheKeyHashing.hash(base, seed: seed)
            for position in 0..<length {
                var bytes = Array(base.utf8)
                bytes[position] = UInt8(ascii: "b")
                let changed = String(decoding: bytes, as: UTF8.self)
                #expect(CacheKeyHashing.hash(changed, seed: seed) != hash, "length \(length), byte \(position)")
                #expect(!CacheKeyHashing.equal(base, changed))
            }
            // A string and its copy in separate storage are the same key.
            let copy = String(decoding: Array(base.utf8), as: UTF8.self)
            #expect(CacheKeyHashing.hash(copy, seed: seed) == hash)
            #expect(CacheKeyHashing.equal(base, copy))
        }
    }

    @Test func lengthIsPartOfTheHash() {
        let hashes = Set((0...32).map { CacheKeyHashing.hash(String(repeating: "\u{0}", count: $0), seed: seed) })
        #expect(hashes.count == 33)
    }

    @Test func theSeedChangesTheHash() {
        #expect(CacheKeyHashing.hash("token-symbol-100000", seed: 1) != CacheKeyHashing.hash("token-symbol-100000", seed: 2))
    }

    @Test func otherKeysUseTheirOwnHash() {
        #expect(CacheKeyHashing.hash(42, seed: seed) == 42.hashValue)
        #expect(CacheKeyHashing.equal(42, 42))
        #expect(!CacheKeyHashing.equal(42, 43))
    }

    @Test func aCacheFindsAStringUnderAnEquivalentSpelling() throws {
        let cache = try Cache<String, Int, ContinuousClock>(maximumCapacity: 100, timeToLive: .seconds(60))
        for (index, (first, _)) in equivalentPairs.enumerated() { cache.insert(index, for: first) }
        for (index, (_, second)) in equivalentPairs.enumerated() { #expect(cache.value(for: second) == index) }
        // Bridged and substring-made strings are found too.
        cache.insert(7, for: "prefix-token-symbol-100007")
        let made = String("xprefix-token-symbol-100007".dropFirst())
        #expect(cache.value(for: made) == 7)
        #expect(cache.value(for: NSString(string: "prefix-token-symbol-100007") as String) == 7)
    }
}
