/// An invalidation of a group of entries (a tag, or the keys a predicate selects, such as a key
/// prefix) that is not yet applied to every entry it covers. A shard keeps these instead of
/// scanning: each entry is checked against the invalidations newer than its last check when it is
/// next met, and ``Cache/removeExpired()`` applies them all.
@usableFromInline
struct CacheInvalidation<Key: Hashable & Sendable>: Sendable {
    /// Which entries an invalidation covers.
    @usableFromInline enum Target: Sendable {
        case tag(String)
        case keys(@Sendable (Key) -> Bool)
    }

    /// The shard's invalidation count once this one was made: it covers entries checked before.
    @usableFromInline let generation: UInt64
    @usableFromInline let target: Target

    @inlinable init(generation: UInt64, target: Target) {
        self.generation = generation
        self.target = target
    }

    /// Whether it covers the entry of `key` inserted with `tag`.
    @inlinable func covers(_ key: Key, tag: String?) -> Bool {
        switch target {
        case .tag(let invalidated): return tag == invalidated
        case .keys(let selected): return selected(key)
        }
    }
}
