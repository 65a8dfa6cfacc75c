/// The hashes of the entries a ``CachePolicy`` evicted last, and whether each was a newcomer
/// refused by the main lists or an entry the main lists had kept: what ARC calls ghost lists.
///
/// A miss whose hash is remembered tells which part of the cache was too small to keep that key:
/// the window, when a newcomer is read again soon after the sketch refused it (what was read
/// recently is read again), or the main lists, when an entry they had kept comes back (what was
/// read often is read again). The policy moves its window by such misses (see
/// ``CachePolicy/add(_:hash:weight:)``).
///
/// It remembers at most `capacity` hashes, the oldest forgotten first, in a ring and an open
/// addressing table of ring slots, both allocated once. A value type, kept in the policy.
@usableFromInline
struct CacheGhosts: Sendable {
    /// Where an evicted entry was.
    @usableFromInline enum Origin: UInt8, Sendable {
        /// A newcomer from the window that the main lists never kept.
        case window
        /// An entry the main lists had kept.
        case main
    }

    /// The remembered hashes, oldest at `next` once the ring is full.
    @usableFromInline var hashes: [Int]
    @usableFromInline var origins: [Origin]
    /// Each remembered hash's ring slot plus one, by the hash's bucket (0: empty). Twice the ring's
    /// size or more, a power of two, so probes stay short.
    @usableFromInline var table: [Int32]
    @usableFromInline var next = 0
    @usableFromInline var count = 0
    @usableFromInline let capacity: Int
    /// How many remembered hashes came from each origin.
    @usableFromInline var windowCount = 0
    @usableFromInline var mainCount = 0

    /// Ghosts of at most `capacity` evicted entries (at least one).
    @inlinable init(capacity: Int) {
        self.capacity = max(1, capacity)
        hashes = Array(repeating: 0, count: self.capacity)
        origins = Array(repeating: .window, count: self.capacity)
        var buckets = 4
        while buckets < 2 * self.capacity { buckets <<= 1 }
        table = Array(repeating: 0, count: buckets)
    }

    /// Remembers that an entry of `hash` was evicted from `origin`, forgetting the oldest ghost
    /// when full.
    @inlinable mutating func remember(_ hash: Int, from origin: Origin) {
        if count == capacity {
            forget(slot: next)
        } else {
            count += 1
        }
        if let bucket = bucket(of: hash) { remove(bucket: bucket) }
        hashes[next] = hash
        origins[next] = origin
        if origin == .window { windowCount += 1 } else { mainCount += 1 }
        var probe = hash & (table.count - 1)
        while table[probe] != 0 { probe = (probe + 1) & (table.count - 1) }
        table[probe] = Int32(next + 1)
        next = next + 1 == capacity ? 0 : next + 1
    }

    /// Where the entry of `hash` was when it was evicted, if it is remembered; it is forgotten.
    @inlinable mutating func take(_ hash: Int) -> Origin? {
        guard let bucket = bucket(of: hash) else { return nil }
        let origin = origins[Int(table[bucket]) - 1]
        remove(bucket: bucket)
        return origin
    }

    /// The table's bucket holding `hash`, if it is remembered.
    @inlinable func bucket(of hash: Int) -> Int? {
        var probe = hash & (table.count - 1)
        while table[probe] != 0 {
            if hashes[Int(table[probe]) - 1] == hash { return probe }
            probe = (probe + 1) & (table.count - 1)
        }
        return nil
    }

    /// Forgets the ghost in ring `slot`, if it is still remembered.
    @inlinable mutating func forget(slot: Int) {
        var probe = hashes[slot] & (table.count - 1)
        while table[probe] != 0 {
            if Int(table[probe]) - 1 == slot {
                remove(bucket: probe)
                return
            }
            probe = (probe + 1) & (table.count - 1)
        }
    }

    /// Empties `bucket`, moving later entries of its run back so every probe still finds them.
    @inlinable mutating func remove(bucket: Int) {
        let slot = Int(table[bucket]) - 1
        if origins[slot] == .window { windowCount -= 1 } else { mainCount -= 1 }
        let mask = table.count - 1
        var hole = bucket
        var probe = (bucket + 1) & mask
        while table[probe] != 0 {
            let home = hashes[Int(table[probe]) - 1] & mask
            // The entry at `probe` may move into the hole when its home is not between them.
            if (probe - home) & mask >= (probe - hole) & mask {
                table[hole] = table[probe]
                hole = probe
            }
            probe = (probe + 1) & mask
        }
        table[hole] = 0
    }
}
