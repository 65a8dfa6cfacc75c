#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import Synchronization

/// One shard of a ``Cache``, its eviction policy, and the locks that let readers on different
/// cores share them without writing to the same memory.
///
/// The lock is split into stripes, each a lock word on its own cache lines with a small buffer of
/// recorded reads and hit and miss counters. A reader takes only its thread's stripe (see
/// ``ThreadProbe``), peeks at the shard (``CacheShard/peek(_:_:hash:at:)`` writes nothing) and,
/// unless the entry is protected (then it only counts the read in its mark, see ``CacheReadMarks``),
/// records what it read in the stripe's buffer; everything else takes all the stripes in order,
/// applies the recorded reads to the ``CachePolicy``, then works alone. Two cores reading the
/// same hot keys so share the shard's memory read-only, and a hit takes one uncontended lock, as
/// Caffeine's read buffers let its readers do. The shard and the policy each have cache lines of
/// their own, so that applying reads to the policy never takes a line readers of the shard need.
///
/// The locks are atomic words, taken with one compare-and-exchange and released with a store,
/// inline, with no call on a hit (BENCHMARKS.md, cache, says why not a pthread mutex).
/// Whoever finds a lock taken retries, then yields its core, then sleeps 50 µs between tries:
/// stripes are held for a lookup and a segment for one write (``withExclusiveAccess(_:)``), so
/// waits are short, except behind a `removeAll(where:)` predicate.
///
/// A reader whose buffer is full applies it to the policy itself, still holding only its own
/// stripe, when it gets the policy's lock without waiting (another reader may be applying its
/// own buffer): the policy never touches keys or values, so the other readers go on peeking. When
/// the lock is taken, reads are not recorded until a later reader or writer applies the buffer;
/// the policy loses a few samples, no entry or count is lost.
///
/// A struct of pointers, so reading a segment retains nothing (a class's reference count would be
/// written by every read, from every core); the ``Cache`` that creates it calls ``deallocate()``.
@usableFromInline
struct CacheSegment<Key: Hashable & Sendable, Value: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `shard` is read with at least one stripe's lock held and changed only
    // with all of them held; `policy` is changed with all stripes held, or with one stripe and the
    // policy's lock held; a stripe's buffer and counters are used only with its lock held;
    // `readMarks` are atomics (see CacheReadMarks).
    @usableFromInline let shard: UnsafeMutablePointer<CacheShard<Key, Value>>
    @usableFromInline let policy: UnsafeMutablePointer<CachePolicy>
    /// The policy's marks of protected entries, whose reads need not be recorded.
    @usableFromInline let readMarks: CacheReadMarks
    @usableFromInline let stripes: UnsafeMutableRawPointer
    @usableFromInline let stripeCount: Int

    /// Each stripe: its lock word at 0, the number of recorded reads at 8, hits at 16, misses at
    /// 24 (so a hit, and a writer taking the stripe, touch one line of it), the recorded hashes at
    /// 64 and positions at 320. Two stripes never share a cache line. The policy's lock word
    /// follows the last stripe.
    @inlinable static var stripeStride: Int { 512 }
    @inlinable static var bufferCapacity: Int { 32 }
    @inlinable static var recordedOffset: Int { 8 }
    @inlinable static var hitsOffset: Int { 16 }
    @inlinable static var missesOffset: Int { 24 }
    @inlinable static var hashesOffset: Int { 64 }
    @inlinable static var positionsOffset: Int { 320 }

    /// A segment holding `shard`, evicted by a ``CachePolicy`` of `capacity`, with a stripe per
    /// thread the machine runs at once, twice over (2 to 16).
    init(_ shard: CacheShard<Key, Value>, capacity: Int) {
        self.shard = Self.allocateAlone(CacheShard<Key, Value>.self)
        self.shard.initialize(to: shard)
        // An entry-counting shard holds at most `capacity + 1` positions (one over, until the
        // eviction); the policy grows the marks as positions are added, so a large capacity (a
        // weight, with a weigher) does not allocate them all up front.
        readMarks = CacheReadMarks(count: min(capacity + 1, 4_096))
        policy = Self.allocateAlone(CachePolicy.self)
        policy.initialize(to: CachePolicy(capacity: capacity, readMarks: readMarks))
        let processors = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        var count = 2
        while count < 2 * processors && count < 16 { count <<= 1 }
        stripeCount = count
        stripes = .allocate(byteCount: (count + 1) * Self.stripeStride, alignment: 128)
        stripes.initializeMemory(as: UInt8.self, repeating: 0, count: (count + 1) * Self.stripeStride)
        for stripe in 0...count {
            (stripes + stripe * Self.stripeStride).bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
        }
    }

    /// Memory for one `type` on cache lines of its own (128-byte aligned, whole pairs of lines).
    static func allocateAlone<T>(_ type: T.Type) -> UnsafeMutablePointer<T> {
        let size = (MemoryLayout<T>.size + 127) & ~127
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 128).bindMemory(to: T.self, capacity: 1)
    }

    /// Frees the segment; it must not be used afterwards.
    func deallocate() {
        for stripe in 0...stripeCount { _ = lockWord(stripe).move() }
        stripes.deallocate()
        shard.pointee.stored.deallocate()
        shard.deinitialize(count: 1)
        shard.deallocate()
        policy.deinitialize(count: 1)
        policy.deallocate()
        readMarks.deallocate()
    }

    /// The lock word of `stripe`; of the policy for `stripeCount`. 0 when free, else its holder's
    /// kind: ``reader`` or ``writer``.
    @inlinable func lockWord(_ stripe: Int) -> UnsafeMutablePointer<Atomic<Int>> {
        (stripes + stripe * Self.stripeStride).assumingMemoryBound(to: Atomic<Int>.self)
    }

    /// A lock word's value while a reader holds it (a stripe, or the policy's lock).
    @inlinable static var reader: Int { 1 }
    /// A stripe's lock word's value while a writer holds every stripe.
    @inlinable static var writer: Int { 2 }

    /// Takes the lock of `stripe` for `holder` if it is free.
    @inlinable func tryLock(_ stripe: Int, for holder: Int = reader) -> Bool {
        lockWord(stripe).pointee.compareExchange(expected: 0, desired: holder, ordering: .acquiring).exchanged
    }

    /// Takes the lock of `stripe` for `holder`, waiting as long as it takes.
    @inlinable func lock(_ stripe: Int, for holder: Int = reader) {
        if tryLock(stripe, for: holder) { return }
        lockSlowly(stripe, for: holder)
    }

    /// Waits for the lock of `stripe`: retries for a microsecond or two (a writer holds a segment
    /// for about that long), then yields the core, then sleeps between tries.
    @usableFromInline func lockSlowly(_ stripe: Int, for holder: Int) {
        var tries = 0
        while true {
            if lockWord(stripe).pointee.load(ordering: .relaxed) == 0 && tryLock(stripe, for: holder) { return }
            tries += 1
            if tries < 1_024 { continue }
            if tries < 1_088 { sched_yield() } else { usleep(50) }
        }
    }

    /// Releases the lock of `stripe`.
    @inlinable func unlock(_ stripe: Int) {
        lockWord(stripe).pointee.store(0, ordering: .releasing)
    }

    // MARK: Reading side by side

    /// `key`'s entry at `now`, as ``CacheShard/peek(_:_:hash:at:)`` finds it with only the calling
    /// thread's stripe taken. A fresh value is counted as a hit and its read recorded; so is a miss
    /// when `countingMisses`.
    @inlinable func peek(_ key: Key, hash: Int, at now: Int64, countingMisses: Bool) -> CacheShard<Key, Value>.Peek {
        var stripe = ThreadProbe.current & (stripeCount - 1)
        if !tryLock(stripe) {
            // Another thread reads with this stripe: move on to another. (A writer holds every
            // stripe: wait for it where we are.)
            if lockWord(stripe).pointee.load(ordering: .relaxed) == Self.reader { stripe = ThreadProbe.renew() & (stripeCount - 1) }
            lock(stripe)
        }
        let base = stripes + stripe * Self.stripeStride
        let found = CacheShard.peek(shard, key, hash: hash, at: now)
        let recorded: Int
        switch found {
        case .fresh(_, let position) where readMarks.readIfProtected(position):
            // A protected entry, its read counted in its mark: the policy need not hear of it.
            count(Self.hitsOffset, in: base)
            recorded = 0
        case .fresh(_, let position):
            recorded = recordHit(hash: hash, position: position, in: base)
        case .missing where countingMisses:
            count(Self.missesOffset, in: base)
            recorded = 0
        default:
            recorded = 0
        }
        if recorded >= Self.bufferCapacity, tryLock(stripeCount) {
            applyRecordedReads(of: stripe)
            unlock(stripeCount)
        }
        unlock(stripe)
        return found
    }

    /// Counts a hit in the stripe at `base` and records the read when its buffer has room; returns
    /// how many reads are recorded.
    @inlinable func recordHit(hash: Int, position: Int32, in base: UnsafeMutableRawPointer) -> Int {
        count(Self.hitsOffset, in: base)
        let recorded = base.load(fromByteOffset: Self.recordedOffset, as: Int.self)
        guard recorded < Self.bufferCapacity else { return recorded }
        base.storeBytes(of: hash, toByteOffset: Self.hashesOffset + recorded * 8, as: Int.self)
        base.storeBytes(of: position, toByteOffset: Self.positionsOffset + recorded * 4, as: Int32.self)
        base.storeBytes(of: recorded + 1, toByteOffset: Self.recordedOffset, as: Int.self)
        return recorded + 1
    }

    /// Adds one to the hit or miss counter at offset `counter` of the stripe at `base`.
    @inlinable func count(_ counter: Int, in base: UnsafeMutableRawPointer) {
        base.storeBytes(of: base.load(fromByteOffset: counter, as: Int.self) + 1, toByteOffset: counter, as: Int.self)
    }

    /// Applies the reads recorded in `stripe` to the policy; the stripe is taken, and the policy is
    /// the caller's alone.
    @inlinable func applyRecordedReads(of stripe: Int) {
        let base = stripes + stripe * Self.stripeStride
        let recorded = base.load(fromByteOffset: Self.recordedOffset, as: Int.self)
        for read in 0..<recorded {
            policy.pointee.recordRead(
                hash: base.load(fromByteOffset: Self.hashesOffset + read * 8, as: Int.self),
                position: base.load(fromByteOffset: Self.positionsOffset + read * 4, as: Int32.self))
        }
        base.storeBytes(of: 0, toByteOffset: Self.recordedOffset, as: Int.self)
    }

    // MARK: Working alone

    /// Runs `body` with the shard and its policy to itself (every stripe taken, recorded reads
    /// applied first, the policy told the shard's hits so far).
    @inlinable func withExclusiveAccess<Result, Failure: Error>(
        _ body: (inout CacheShard<Key, Value>, inout CachePolicy) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        for stripe in 0..<stripeCount { lock(stripe, for: Self.writer) }
        defer { for stripe in 0..<stripeCount { unlock(stripe) } }
        for stripe in 0..<stripeCount { applyRecordedReads(of: stripe) }
        // The stripes' counters share the lock words' lines, taken above.
        policy.pointee.hits = peekCounts().hits + shard.pointee.statistics.hits
        return try body(&shard.pointee, &policy.pointee)
    }

    /// The hits and misses counted by ``peek(_:hash:at:countingMisses:)``; every stripe is taken.
    @inlinable func peekCounts() -> (hits: Int, misses: Int) {
        var total = (hits: 0, misses: 0)
        for stripe in 0..<stripeCount {
            let base = stripes + stripe * Self.stripeStride
            total.hits += base.load(fromByteOffset: Self.hitsOffset, as: Int.self)
            total.misses += base.load(fromByteOffset: Self.missesOffset, as: Int.self)
        }
        return total
    }
}
