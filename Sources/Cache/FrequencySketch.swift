/// TinyLFU's memory of how often keys were seen: a count-min sketch of 4-bit counters (4 rows,
/// 16 counters per 64-bit word) whose counts are halved every `sampleSize` increments, so old
/// popularity fades. A value type, kept under its shard's lock.
@usableFromInline
struct FrequencySketch: Sendable {
    @usableFromInline var table: [UInt64]
    @usableFromInline let mask: Int
    @usableFromInline let sampleSize: Int
    @usableFromInline var additions = 0

    /// A sketch sized for `capacity` entries.
    @inlinable init(capacity: Int) {
        var width = 8
        while width < capacity { width <<= 1 }
        table = [UInt64](repeating: 0, count: width)
        mask = width - 1
        sampleSize = max(10 * capacity, 16)
    }

    /// The estimated count of `hash`, 0 to 15.
    @inlinable func frequency(_ hash: Int) -> Int {
        var lowest = 15
        for row in 0..<4 {
            let (word, shift) = position(hash, row: row)
            lowest = min(lowest, Int((table[word] >> shift) & 0xF))
        }
        return lowest
    }

    /// Counts one more sighting of `hash`.
    @inlinable mutating func increment(_ hash: Int) {
        var added = false
        for row in 0..<4 {
            let (word, shift) = position(hash, row: row)
            if (table[word] >> shift) & 0xF < 15 {
                table[word] += 1 << shift
                added = true
            }
        }
        if added {
            additions += 1
            if additions >= sampleSize { halve() }
        }
    }

    /// Halves every counter.
    @inlinable mutating func halve() {
        for index in table.indices { table[index] = (table[index] >> 1) & 0x7777_7777_7777_7777 }
        additions /= 2
    }

    /// The word and bit shift of `hash`'s counter in `row` (each row a different mix of the hash).
    @inlinable func position(_ hash: Int, row: Int) -> (Int, UInt64) {
        var mixed = UInt64(bitPattern: Int64(hash)) &+ UInt64(row) &* 0x9E37_79B9_7F4A_7C15
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        mixed ^= mixed >> 31
        let word = Int(truncatingIfNeeded: mixed) & mask
        let counter = Int((mixed >> 40) & 0xF)
        return (word, UInt64(counter * 4))
    }
}
