public import KeelCore

/// One part of a ``Cache``'s entries (kept in a ``CacheSegment``): an index from keys' hashes to
/// positions in parallel storage (bookkeeping, keys with their values and freshness, tags).
/// Which entry to evict is decided by a ``CachePolicy`` that every changing method is given. Times
/// are nanoseconds since the cache was created. A value type whose entries' memory its segment
/// owns and frees (``CacheEntries``); ``peek(_:_:hash:at:)`` only reads, so readers may run it side
/// by side, and every other method runs with the segment to itself. Nothing here allocates on a
/// hit.
@usableFromInline
struct CacheShard<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// An entry's key, value and end of freshness, side by side: a hit compares the key and reads
    /// the other two, so it finds them on one line (kept apart, the key was a cache miss of its
    /// own); replacing the value changes the same line, which readers of that key on another core
    /// read anyway, and never the index bucket.
    @usableFromInline struct Stored: Sendable {
        /// Fresh until then; then stale (served while refreshing) for the shard's `staleFor`; then
        /// served only when a fetch fails for its `graceFor`; then gone.
        @usableFromInline var freshUntil: Int64
        @usableFromInline var value: Value?
        /// `nil` at a free position.
        @usableFromInline var key: Key?
        /// The key's bytes, when it is a short `String`.
        @usableFromInline var prefix: CacheKeyPrefix

        @inlinable init(freshUntil: Int64, value: Value?, key: Key?) {
            self.freshUntil = freshUntil
            self.value = value
            self.key = key
            prefix = CacheKeyPrefix(key)
        }

        /// Whether it holds `key` (at a position in use).
        @inlinable @inline(__always) func holds(_ key: Key) -> Bool {
            prefix.matches(key) || CacheKeyHashing.equal(self.key.unsafelyUnwrapped, key)
        }
    }

    /// An entry's bookkeeping: plain values only, so that the hot path copies no reference and
    /// calls no value witness. Its key with its value, and its tag, live in parallel arrays at
    /// the same position. Replacing a value without a time to idle leaves it as it is (so the line is not
    /// passed between writers on two cores).
    @usableFromInline struct Meta: Sendable {
        /// The key's hash.
        @usableFromInline var hash: Int
        /// Gone when not read until then (time to idle); `Int64.max` without one.
        @usableFromInline var idleUntil: Int64
        /// The shard's invalidation count when the entry was last checked against the invalidations.
        @usableFromInline var checkedGeneration: UInt64

        @inlinable
        init(hash: Int, idleUntil: Int64, checkedGeneration: UInt64) {
            self.hash = hash
            self.idleUntil = idleUntil
            self.checkedGeneration = checkedGeneration
        }
    }

    /// What a read found.
    @usableFromInline enum Lookup {
        case fresh(Value)
        /// Past its time to live, inside the serve-stale window.
        case stale(Value)
        /// Past the serve-stale window, inside the stale-if-error window.
        case lastGood(Value)
        case missing
    }

    /// What a read that changes nothing found.
    @usableFromInline enum Peek {
        /// A fresh value at a position (whose use the reader records for the eviction policy).
        case fresh(Value, position: Int32)
        case missing
        /// Anything else (stale, expired, possibly invalidated, or a time to idle to extend): a read
        /// that may change the shard must decide.
        case undecided
    }

    /// Why an entry leaves.
    @usableFromInline enum RemovalCause { case size, expired, explicit }

    @usableFromInline var meta: [Meta] = []
    /// Keys, values and freshness, in memory of the shard's own (see ``CacheEntries``).
    @usableFromInline var stored = CacheEntries<Stored>()
    @usableFromInline var tags: [String?] = []
    @usableFromInline var free: [Int32] = []
    @usableFromInline var index: CacheIndex
    @usableFromInline let capacity: Int
    @usableFromInline let timeToIdle: Int64?
    /// How long an entry past its freshness is served stale, then kept for failed fetches.
    @usableFromInline let staleFor: Int64
    @usableFromInline let graceFor: Int64
    /// How many invalidations were made; entries checked at an older count must be checked again.
    @usableFromInline var generation: UInt64 = 0
    /// The invalidations not yet applied to every entry, oldest first.
    @usableFromInline var invalidations: [CacheInvalidation<Key>] = []
    @usableFromInline var failures: [Key: (error: any Error, until: Int64)] = [:]
    @usableFromInline var statistics = CacheStatistics()
    /// Whether an entry was ever given a tag: until then every tag is `nil`, and replacing a value
    /// need not read the entry's tag.
    @usableFromInline var tagged = false

    /// A shard of `capacity` whose entries are served stale for `staleFor` after their freshness,
    /// then kept for failed fetches for `graceFor`.
    @inlinable init(capacity: Int, timeToIdle: Duration?, staleFor: Duration, graceFor: Duration) {
        self.capacity = capacity
        self.timeToIdle = timeToIdle.map(\.inNanoseconds)
        self.staleFor = staleFor.inNanoseconds
        self.graceFor = graceFor.inNanoseconds
        index = CacheIndex(capacity: capacity)
    }

    /// Until when the entry at `slot` is served stale.
    @inlinable func staleUntil(_ slot: Int) -> Int64 {
        CacheTime.adding(stored[slot].freshUntil, staleFor)
    }

    /// Until when the entry at `slot` is kept for failed fetches.
    @inlinable func graceUntil(_ slot: Int) -> Int64 {
        CacheTime.adding(staleUntil(slot), graceFor)
    }

    @inlinable var count: Int { index.count }

    /// The position of `key`'s entry.
    @inlinable func position(of key: Key, hash: Int) -> Int32? {
        Self.position(in: self, of: key, hash: hash)
    }

    /// The position of `key`'s entry in `shard`. (A static function of a borrowed shard, as
    /// ``peek(_:_:hash:at:)`` is: compared from a method, each stored key was retained and released
    /// around the comparison, so two cores writing the same hot key wrote its reference count in
    /// turn, which on two cores made the 75/25 workload slower than on one.)
    @inlinable static func position(in shard: borrowing Self, of key: Key, hash: Int) -> Int32? {
        shard.index.bucket(of: hash) { shard.stored[Int($0)].holds(key) }.map(shard.index.position(at:))
    }

    /// The positions of every entry.
    @inlinable var positions: [Int32] {
        stored.indices.compactMap { stored[$0].key == nil ? nil : Int32($0) }
    }

    // MARK: Reading without changing anything

    /// The fresh value of `key` at `now` in the shard at `shard`, found without writing anything,
    /// so any number of readers may peek at once.
    ///
    /// A static function of the shard's address, whose fields it reads in place: called as a method
    /// through the segment's pointer, the shard was copied, retaining every array in it, and passed
    /// as a borrowed value it was still copied bit by bit (232 bytes, including the line of
    /// statistics that writers on the other core change).
    @inlinable @inline(__always) static func peek(_ shard: UnsafeMutablePointer<Self>, _ key: Key, hash: Int, at now: Int64) -> Peek {
        guard let bucket = shard.pointee.index.bucket(of: hash, where: { shard.pointee.stored[Int($0)].holds(key) }) else {
            return .missing
        }
        let position = shard.pointee.index.position(at: bucket)
        let slot = Int(position)
        // With no invalidation waiting, every entry is current (applying them checks them all).
        guard shard.pointee.stored[slot].freshUntil > now, shard.pointee.timeToIdle == nil,
            shard.pointee.invalidations.isEmpty || shard.pointee.meta[slot].checkedGeneration == shard.pointee.generation
        else { return .undecided }
        return .fresh(shard.pointee.stored[slot].value.unsafelyUnwrapped, position: position)
    }

    // MARK: Reading

    /// The value of `key` at `now`, counting the access when it finds an entry (a miss is counted
    /// by the insert that follows it, as Caffeine counts it); an entry past all its windows, idle
    /// too long, or invalidated is removed.
    @inlinable mutating func lookup(_ key: Key, hash: Int, at now: Int64, policy: inout CachePolicy, counting: Bool = true) -> Lookup {
        guard let position = position(of: key, hash: hash) else {
            if counting { statistics.misses += 1 }
            return .missing
        }
        let slot = Int(position)
        let current = isCurrent(slot)
        let entry = meta[slot]
        if graceUntil(slot) <= now || entry.idleUntil <= now || !current {
            remove(at: position, cause: current ? .expired : .explicit, policy: &policy)
            if counting { statistics.misses += 1 }
            return .missing
        }
        meta[slot].checkedGeneration = generation
        let value = stored[slot].value.unsafelyUnwrapped
        if stored[slot].freshUntil > now {
            if counting { statistics.hits += 1 }
            if let timeToIdle { meta[slot].idleUntil = now + timeToIdle }
            policy.touch(position)
            return .fresh(value)
        }
        if counting { statistics.misses += 1 }
        policy.countSighting(of: hash)
        return staleUntil(slot) > now ? .stale(value) : .lastGood(value)
    }

    /// Whether no invalidation made since the entry was last checked covers it.
    @inlinable func isCurrent(_ slot: Int) -> Bool {
        let checked = meta[slot].checkedGeneration
        guard checked != generation else { return true }
        for invalidation in invalidations.reversed() {
            if invalidation.generation <= checked { break }
            if invalidation.covers(stored[slot].key.unsafelyUnwrapped, tag: tags[slot]) { return false }
        }
        return true
    }

    /// A remembered failure of `key` still in force at `now`.
    @inlinable mutating func failure(for key: Key, at now: Int64) -> (any Error)? {
        guard let failure = failures[key] else { return nil }
        if failure.until > now { return failure.error }
        if !failures.isEmpty { failures[key] = nil }
        return nil
    }

    @inlinable mutating func rememberFailure(_ error: any Error, for key: Key, until: Int64) {
        if failures.count >= capacity, let any = failures.keys.first { failures[any] = nil }
        failures[key] = (error, until)
    }

    /// The fresh entries at `now`.
    @inlinable func entries(at now: Int64) -> [(key: Key, value: Value)] {
        positions.compactMap { position in
            let slot = Int(position)
            guard stored[slot].freshUntil > now, meta[slot].idleUntil > now, isCurrent(slot) else { return nil }
            return (stored[slot].key.unsafelyUnwrapped, stored[slot].value.unsafelyUnwrapped)
        }
    }

    // MARK: Writing

    /// Inserts or replaces `key`, then evicts what capacity requires.
    @inlinable mutating func insert(
        _ value: Value, for key: Key, hash: Int, weight: Int, freshUntil: Int64, tag: String?, at now: Int64, policy: inout CachePolicy
    ) {
        if !failures.isEmpty { failures[key] = nil }
        if tag != nil { tagged = true }
        let entry = Meta(hash: hash, idleUntil: timeToIdle.map { now + $0 } ?? Int64.max, checkedGeneration: generation)
        if let position = position(of: key, hash: hash) {
            statistics.replaced += 1
            let slot = Int(position)
            // Without a time to idle every entry's `idleUntil` is `Int64.max`, and with no
            // invalidation waiting an older `checkedGeneration` makes no difference (see
            // `isCurrent`): then the entry's bookkeeping, a line of its own, is not touched.
            if timeToIdle != nil || !invalidations.isEmpty,
                meta[slot].idleUntil != entry.idleUntil || meta[slot].checkedGeneration != generation
            {
                meta[slot] = entry
            }
            stored[slot].freshUntil = freshUntil
            stored[slot].value = value
            if tagged { tags[slot] = tag }
            policy.replace(position, weight: weight)
        } else {
            guard weight <= capacity else { return }  // could never fit
            let position: Int32
            if let reused = free.popLast() {
                position = reused
                let slot = Int(position)
                meta[slot] = entry
                stored[slot] = Stored(freshUntil: freshUntil, value: value, key: key)
                tags[slot] = tag
            } else {
                position = Int32(meta.count)
                meta.append(entry)
                stored.append(Stored(freshUntil: freshUntil, value: value, key: key))
                tags.append(tag)
            }
            index.insert(position, hash: hash) { meta[Int($0)].hash }
            policy.add(position, hash: hash, weight: weight)
        }
        while let loser = policy.nextEviction() { remove(at: loser, cause: .size, policy: &policy) }
    }

    /// Removes `key`'s entry; returns its value.
    @inlinable mutating func removeValue(for key: Key, hash: Int, policy: inout CachePolicy) -> Value? {
        if !failures.isEmpty { failures[key] = nil }
        guard let position = position(of: key, hash: hash) else { return nil }
        let value = stored[Int(position)].value
        remove(at: position, cause: .explicit, policy: &policy)
        return value
    }

    /// Removes every entry for which `predicate` is true.
    @inlinable mutating func removeAll(where predicate: (Key, Value) throws -> Bool, policy: inout CachePolicy) rethrows {
        for position in positions {
            let slot = Int(position)
            if try predicate(stored[slot].key.unsafelyUnwrapped, stored[slot].value.unsafelyUnwrapped) {
                remove(at: position, cause: .explicit, policy: &policy)
            }
        }
    }

    /// Removes every entry and remembered failure.
    @inlinable mutating func removeAll(policy: inout CachePolicy) {
        removeAll(where: { _, _ in true }, policy: &policy)
        failures.removeAll()
        invalidations.removeAll()
    }

    /// Makes every entry `target` covers invalid without scanning: each is removed when next met.
    /// After many invalidations, the entries are checked against them all at once (so the list of
    /// invalidations stays short: each invalidation costs O(1) amortized).
    @inlinable mutating func invalidate(_ target: CacheInvalidation<Key>.Target, policy: inout CachePolicy) {
        generation += 1
        invalidations.append(CacheInvalidation(generation: generation, target: target))
        if invalidations.count > max(64, count / 8) { applyInvalidations(policy: &policy) }
    }

    /// Removes every entry an invalidation covers; afterwards none is pending.
    @inlinable mutating func applyInvalidations(policy: inout CachePolicy) {
        guard !invalidations.isEmpty else { return }
        for position in positions {
            if isCurrent(Int(position)) {
                meta[Int(position)].checkedGeneration = generation
            } else {
                remove(at: position, cause: .explicit, policy: &policy)
            }
        }
        invalidations.removeAll()
    }

    /// Removes every entry that can no longer be returned at `now`.
    @inlinable mutating func removeExpired(at now: Int64, policy: inout CachePolicy) {
        applyInvalidations(policy: &policy)
        for position in positions {
            let slot = Int(position)
            if graceUntil(slot) <= now || meta[slot].idleUntil <= now {
                remove(at: position, cause: .expired, policy: &policy)
            }
        }
        failures = failures.filter { $0.value.until > now }
    }

    @inlinable mutating func remove(at position: Int32, cause: RemovalCause, policy: inout CachePolicy) {
        switch cause {
        case .size: statistics.evictedBySize += 1
        case .expired: statistics.evictedExpired += 1
        case .explicit: statistics.evictedExplicitly += 1
        }
        policy.remove(position)
        let slot = Int(position)
        index.remove(position, hash: meta[slot].hash) { meta[Int($0)].hash }
        stored[slot].key = nil
        stored[slot].value = nil
        tags[slot] = nil
        free.append(position)
    }
}
