/// A shard's entries, in memory the shard manages itself, so that changing one entry writes only
/// that entry.
///
/// An `Array` field changed in place (`stored[slot].value = value`) has its buffer reference
/// written back into the struct that holds it, on every change, whether or not the buffer moved.
/// In a ``CacheShard`` that reference shares a cache line with the index, which every reader of
/// the shard reads: on two cores, each replaced value took that line from the readers on the
/// other core. Here an entry is changed through an address (`nonmutating unsafeMutableAddress`),
/// and the struct changes only when an entry is added.
///
/// Copies share the memory: the ``CacheSegment`` holding the shard is the one owner, and frees it
/// (``deallocate()``) with the shard.
@usableFromInline
struct CacheEntries<Element: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: the elements are Sendable, and the memory is read and changed only
    // under the locks of the segment that holds the shard (see CacheSegment).
    @usableFromInline var base: UnsafeMutablePointer<Element>?
    /// How many entries there are; positions `0..<count` are initialized.
    @usableFromInline private(set) var count = 0
    @usableFromInline var capacity = 0

    /// No entries, and no memory yet.
    @inlinable init() {}

    /// The positions of the entries.
    @inlinable var indices: Range<Int> { 0..<count }

    /// The entry at `slot`, which must be below ``count``.
    @inlinable subscript(slot: Int) -> Element {
        unsafeAddress {
            precondition(slot >= 0 && slot < count, "a position past the entries")
            return UnsafePointer(base.unsafelyUnwrapped + slot)
        }
        nonmutating unsafeMutableAddress {
            precondition(slot >= 0 && slot < count, "a position past the entries")
            return base.unsafelyUnwrapped + slot
        }
    }

    /// Adds `element` after the last entry, moving them all to twice the memory when it is full.
    @inlinable mutating func append(_ element: Element) {
        if count == capacity { grow() }
        (base.unsafelyUnwrapped + count).initialize(to: element)
        count += 1
    }

    @inlinable mutating func grow() {
        let larger = max(16, capacity * 2)
        let moved = UnsafeMutablePointer<Element>.allocate(capacity: larger)
        if let base {
            moved.moveInitialize(from: base, count: count)
            base.deallocate()
        }
        base = moved
        capacity = larger
    }

    /// Frees the entries; no copy may be used afterwards.
    @inlinable func deallocate() {
        guard let base else { return }
        base.deinitialize(count: count)
        base.deallocate()
    }
}
