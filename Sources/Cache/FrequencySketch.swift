/// TinyLFU's memory of how often keys were seen: a count-min sketch of 4-bit counters (16 per
/// 64-bit word) whose counts are halved every `sampleSize` increments, so old popularity fades.
/// As in Caffeine, a key's 4 counters lie in one 64-byte block (one per pair of words), so
/// counting a key touches one cache line, not four. A value type, kept with its shard's policy.
@usableFromInline
struct FrequencySketch: Sendable {
    @usableFromInline var table: [UInt64]
    /// Which 8-word block a hash picks.
    @usableFromInline let blockMask: UInt64
    /// How many counted sightings halve the counts: 20 × the capacity. (Caffeine halves after
    /// 10 ×; on the cache suite's traces, 20 × kept 0.1 to 0.3 points more of a Zipf load and
    /// changed neither the loop nor the sliding working set: BENCHMARKS.md, cache.)
    @usableFromInline let sampleSize: Int
    @usableFromInline var additions = 0

    /// A sketch sized for `capacity` entries.
    @inlinable init(capacity: Int) {
        var width = 8
        while width < capacity { width <<= 1 }
        table = [UInt64](repeating: 0, count: width)
        blockMask = UInt64(width / 8 - 1)
        sampleSize = max(20 * capacity, 16)
    }

    /// The estimated count of `hash`, 0 to 15.
    @inlinable func frequency(_ hash: Int) -> Int {
        let (block, counters) = Self.mix(hash, blockMask: blockMask)
        var lowest: UInt64 = 15
        for row in 0..<4 {
            let (word, shift) = Self.position(block: block, counters: counters, row: row)
            lowest = min(lowest, (table[word] >> shift) & 0xF)
        }
        return Int(lowest)
    }

    /// Counts one more sighting of `hash`.
    @inlinable mutating func increment(_ hash: Int) {
        increment(hash, by: 1)
    }

    /// Counts `sightings` more sightings of `hash` (counters stop at 15).
    @inlinable mutating func increment(_ hash: Int, by sightings: Int) {
        let (block, counters) = Self.mix(hash, blockMask: blockMask)
        var added = false
        for row in 0..<4 {
            let (word, shift) = Self.position(block: block, counters: counters, row: row)
            let count = (table[word] >> shift) & 0xF
            if count < 15 {
                table[word] += min(15 - count, UInt64(sightings)) << shift
                added = true
            }
        }
        if added {
            additions += sightings
            if additions >= sampleSize { halve() }
        }
    }

    /// Halves every counter.
    @inlinable mutating func halve() {
        for index in table.indices { table[index] = (table[index] >> 1) & 0x7777_7777_7777_7777 }
        additions /= 2
    }

    /// The first word of `hash`'s block, and 32 more bits of the hash that pick its counters.
    @inlinable static func mix(_ hash: Int, blockMask: UInt64) -> (block: Int, counters: UInt64) {
        var mixed = UInt64(bitPattern: Int64(hash))
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        mixed ^= mixed >> 31
        return (Int(truncatingIfNeeded: (mixed & blockMask) << 3), mixed >> 32)
    }

    /// The word and bit shift of the counter of `row` (0 to 3): one of the row's two words in the
    /// block, and one of its 16 counters, chosen by 5 bits of `counters` each.
    @inlinable static func position(block: Int, counters: UInt64, row: Int) -> (Int, UInt64) {
        let bits = counters >> UInt64(row * 8)
        let word = block + Int(bits & 1) + row * 2
        return (word, ((bits >> 1) & 0xF) * 4)
    }
}
