/// Where each key's entry is in a shard: an open-addressing hash table (linear probing, backward-
/// shift deletion) over hashes the cache has already computed, so a lookup hashes its key once (a
/// `Dictionary` would hash it a second time, which for a 20-byte `String` costs as much as the rest
/// of a hit). One word per bucket, written only when entries come and go: replacing a value
/// leaves the index alone, so readers on another core keep their copy of its lines. A value type,
/// kept under its shard's lock; reads do not write to it.
@usableFromInline
struct CacheIndex: Sendable {
    /// 0 when the bucket is empty; otherwise the entry's hash in the upper 32 bits (a filter before
    /// the key is compared) and its position + 1 in the lower 32.
    @usableFromInline var buckets: [UInt64]
    @usableFromInline var mask: Int
    /// `64 - log2(buckets.count)`: the home bucket is the top bits of the hash times a constant.
    @usableFromInline var shift: UInt64
    @usableFromInline var count = 0

    /// An index that holds `capacity` entries without growing (at most half full).
    @inlinable init(capacity: Int) {
        var size = 8
        while size < capacity * 2 { size <<= 1 }
        buckets = [UInt64](repeating: 0, count: size)
        mask = size - 1
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    /// How many buckets there are.
    @inlinable var size: Int { mask + 1 }

    @inlinable static var positionMask: UInt64 { 0xFFFF_FFFF }

    /// The bucket where a search for `hash` starts.
    @inlinable func home(_ hash: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: Int64(hash)) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    @inlinable static func filter(_ hash: Int) -> UInt64 {
        UInt64(bitPattern: Int64(hash)) & ~positionMask
    }

    /// The bucket of the entry of `hash` for which `matches` (given its position) is true, or `nil`.
    @inlinable @inline(__always) func bucket(of hash: Int, where matches: (Int32) -> Bool) -> Int? {
        let filter = Self.filter(hash)
        var bucket = home(hash)
        while true {
            let content = buckets[bucket]
            if content == 0 { return nil }
            if content & ~Self.positionMask == filter && matches(position(at: bucket)) { return bucket }
            bucket = (bucket + 1) & mask
        }
    }

    /// The position of the entry in `bucket`.
    @inlinable func position(at bucket: Int) -> Int32 {
        Int32(truncatingIfNeeded: buckets[bucket] & Self.positionMask) - 1
    }

    /// The bucket holding `position` (present under `hash`).
    @inlinable func bucket(holding position: Int32, hash: Int) -> Int {
        let wanted = Self.filter(hash) | UInt64(UInt32(position + 1))
        var bucket = home(hash)
        while buckets[bucket] != wanted { bucket = (bucket + 1) & mask }
        return bucket
    }

    /// Adds `position` under `hash` (not already present); `hashOf` gives any entry's hash, for
    /// growing.
    @inlinable mutating func insert(_ position: Int32, hash: Int, hashOf: (Int32) -> Int) {
        if (count + 1) * 2 > size { grow(hashOf: hashOf) }
        place(Self.filter(hash) | UInt64(UInt32(position + 1)), hash: hash)
        count += 1
    }

    @inlinable mutating func place(_ content: UInt64, hash: Int) {
        var bucket = home(hash)
        while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
        buckets[bucket] = content
    }

    /// Doubles the table, placing every entry again.
    @inlinable mutating func grow(hashOf: (Int32) -> Int) {
        let old = buckets
        buckets = [UInt64](repeating: 0, count: old.count * 2)
        mask = buckets.count - 1
        shift -= 1
        for content in old where content != 0 {
            place(content, hash: hashOf(Int32(truncatingIfNeeded: content & Self.positionMask) - 1))
        }
    }

    /// Removes `position` (present under `hash`), shifting the entries after it back so no search
    /// stops early.
    @inlinable mutating func remove(_ position: Int32, hash: Int, hashOf: (Int32) -> Int) {
        var hole = bucket(holding: position, hash: hash)
        var next = hole
        while true {
            next = (next + 1) & mask
            let content = buckets[next]
            if content == 0 { break }
            let itsHome = home(hashOf(self.position(at: next)))
            // The entry at `next` may move into the hole unless its home lies cyclically in (hole, next].
            let homeAfterHole = hole <= next ? (itsHome > hole && itsHome <= next) : (itsHome > hole || itsHome <= next)
            if !homeAfterHole {
                buckets[hole] = content
                hole = next
            }
        }
        buckets[hole] = 0
        count -= 1
    }

    /// Empties the index, keeping its size.
    @inlinable mutating func removeAll() {
        for bucket in buckets.indices { buckets[bucket] = 0 }
        count = 0
    }
}
