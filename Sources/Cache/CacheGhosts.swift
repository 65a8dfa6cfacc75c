/// The hashes of the entries a ``CachePolicy`` evicted last, and whether each was a newcomer
/// refused by the main lists or an entry the main lists had kept: what ARC calls ghost lists.
///
/// A miss whose hash is remembered tells which part of the cache was too small to keep that key:
/// the window, when a newcomer is read again soon after the sketch refused it (what was read
/// recently is read again), or the main lists, when an entry they had kept comes back (what was
/// read often is read again). The policy moves its window by such misses (see
/// ``CachePolicy/add(_:hash:weight:)``).
///
/// It remembers at most `capacity` hashes, the oldest forgotten first, in a ring whose slots a
/// ``CacheIndex`` finds by hash, both allocated once. A value type, kept in the policy.
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
    /// Where each slot's entry was evicted from; `nil` once it is taken or forgotten.
    @usableFromInline var origins: [Origin?]
    /// The slots still remembered, by hash.
    @usableFromInline var index: CacheIndex
    @usableFromInline var next = 0
    @usableFromInline let capacity: Int
    /// How many remembered hashes came from each origin.
    @usableFromInline var windowCount = 0
    @usableFromInline var mainCount = 0

    /// Ghosts of at most `capacity` evicted entries (at least one).
    @inlinable init(capacity: Int) {
        self.capacity = max(1, capacity)
        hashes = Array(repeating: 0, count: self.capacity)
        origins = Array(repeating: nil, count: self.capacity)
        index = CacheIndex(capacity: self.capacity)
    }

    /// Remembers that an entry of `hash` was evicted from `origin`, forgetting the oldest ghost
    /// when full.
    @inlinable mutating func remember(_ hash: Int, from origin: Origin) {
        forget(slot: next)
        if let slot = slot(of: hash) { forget(slot: slot) }
        hashes[next] = hash
        origins[next] = origin
        if origin == .window { windowCount += 1 } else { mainCount += 1 }
        index.insert(Int32(next), hash: hash) { hashes[Int($0)] }
        next = next + 1 == capacity ? 0 : next + 1
    }

    /// Where the entry of `hash` was when it was evicted, if it is remembered; it is forgotten.
    @inlinable mutating func take(_ hash: Int) -> Origin? {
        guard let slot = slot(of: hash), let origin = origins[slot] else { return nil }
        forget(slot: slot)
        return origin
    }

    /// The ring slot remembering `hash`, if any.
    @inlinable func slot(of hash: Int) -> Int? {
        index.bucket(of: hash) { hashes[Int($0)] == hash }.map { Int(index.position(at: $0)) }
    }

    /// Forgets the ghost in ring `slot`, if it is still remembered.
    @inlinable mutating func forget(slot: Int) {
        guard let origin = origins[slot] else { return }
        index.remove(Int32(slot), hash: hashes[slot]) { hashes[Int($0)] }
        origins[slot] = nil
        if origin == .window { windowCount -= 1 } else { mainCount -= 1 }
    }
}
