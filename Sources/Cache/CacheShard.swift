/// One independently locked part of a ``Cache``: a dictionary from keys to positions in parallel
/// arrays (bookkeeping, keys, values, tags), and
/// W-TinyLFU eviction over them (a small LRU window, then a segmented LRU of probation and protected
/// entries, guarded by a frequency sketch that admits a newcomer only when it is seen more often
/// than the entry it would push out). Times are nanoseconds since the cache was created. A value
/// type, kept under its shard's lock; nothing here allocates on a hit.
@usableFromInline
struct CacheShard<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    @usableFromInline enum Region: UInt8, Sendable { case window, probation, protected }

    /// An entry's bookkeeping: plain values only, so that the hot path (freshness checks, list
    /// moves) copies no reference and calls no value witness. Its key, value and tag live in
    /// parallel arrays at the same position.
    @usableFromInline struct Meta: Sendable {
        @usableFromInline var weight: Int
        /// Fresh until; then stale (served while refreshing) until `staleUntil`; then served only when
        /// a fetch fails until `graceUntil`; then gone.
        @usableFromInline var freshUntil: Int64
        @usableFromInline var staleUntil: Int64
        @usableFromInline var graceUntil: Int64
        /// Gone when not read until then (time to idle); `Int64.max` without one.
        @usableFromInline var idleUntil: Int64
        @usableFromInline var tagGeneration: Int
        @usableFromInline var hasTag: Bool
        @usableFromInline var region: Region
        @usableFromInline var previous: Int32 = -1
        @usableFromInline var next: Int32 = -1

        @inlinable
        init(
            weight: Int, freshUntil: Int64, staleUntil: Int64, graceUntil: Int64, idleUntil: Int64, tagGeneration: Int, hasTag: Bool,
            region: Region
        ) {
            self.weight = weight
            self.freshUntil = freshUntil
            self.staleUntil = staleUntil
            self.graceUntil = graceUntil
            self.idleUntil = idleUntil
            self.tagGeneration = tagGeneration
            self.hasTag = hasTag
            self.region = region
        }
    }

    /// A doubly linked list of node indices, least recently used at the head.
    @usableFromInline struct List: Sendable {
        @usableFromInline var head: Int32 = -1
        @usableFromInline var tail: Int32 = -1
        @usableFromInline var weight = 0

        @inlinable init() {}
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

    @usableFromInline var meta: [Meta] = []
    @usableFromInline var keys: [Key?] = []
    @usableFromInline var values: [Value?] = []
    @usableFromInline var tags: [String?] = []
    @usableFromInline var free: [Int32] = []
    @usableFromInline var index: [Key: Int32] = [:]
    @usableFromInline var lists = [List(), List(), List()]
    @usableFromInline var sketch: FrequencySketch
    @usableFromInline let capacity: Int
    @usableFromInline let windowCapacity: Int
    @usableFromInline let protectedCapacity: Int
    @usableFromInline let timeToIdle: Int64?
    @usableFromInline var tagGenerations: [String: Int] = [:]
    @usableFromInline var failures: [Key: (error: any Error, until: Int64)] = [:]
    @usableFromInline var statistics = CacheStatistics()

    @inlinable init(capacity: Int, timeToIdle: Duration?) {
        self.capacity = capacity
        windowCapacity = max(1, capacity / 100)
        protectedCapacity = (capacity - windowCapacity) * 8 / 10
        sketch = FrequencySketch(capacity: capacity)
        self.timeToIdle = timeToIdle.map(Ticks.nanoseconds)
        index.reserveCapacity(capacity)
    }

    @inlinable var count: Int { index.count }
    @inlinable var totalWeight: Int { lists[0].weight + lists[1].weight + lists[2].weight }

    // MARK: Reading

    /// The value of `key` at `now`, counting the access; an entry past all its windows, idle too
    /// long, or invalidated by its tag is removed.
    @inlinable mutating func lookup(_ key: Key, hash: Int, at now: Int64, counting: Bool = true) -> Lookup {
        sketch.increment(hash)
        guard let position = index[key] else {
            if counting { statistics.misses += 1 }
            return .missing
        }
        let slot = Int(position)
        let entry = meta[slot]
        let current = isCurrent(slot)
        if entry.graceUntil <= now || entry.idleUntil <= now || !current {
            remove(at: position, cause: current ? .expired : .explicit)
            if counting { statistics.misses += 1 }
            return .missing
        }
        if entry.freshUntil > now {
            if counting { statistics.hits += 1 }
            touch(position, at: now)
            return .fresh(values[slot].unsafelyUnwrapped)
        }
        if counting { statistics.misses += 1 }
        return entry.staleUntil > now ? .stale(values[slot].unsafelyUnwrapped) : .lastGood(values[slot].unsafelyUnwrapped)
    }

    /// Whether the entry's tag was not invalidated since it was inserted.
    @inlinable func isCurrent(_ slot: Int) -> Bool {
        guard meta[slot].hasTag, let tag = tags[slot] else { return true }
        return tagGenerations[tag, default: 0] == meta[slot].tagGeneration
    }

    /// A remembered failure of `key` still in force at `now`.
    @inlinable mutating func failure(for key: Key, at now: Int64) -> (any Error)? {
        guard let failure = failures[key] else { return nil }
        if failure.until > now { return failure.error }
        failures[key] = nil
        return nil
    }

    @inlinable mutating func rememberFailure(_ error: any Error, for key: Key, until: Int64) {
        if failures.count >= capacity, let any = failures.keys.first { failures[any] = nil }
        failures[key] = (error, until)
    }

    /// The fresh entries at `now`.
    @inlinable func entries(at now: Int64) -> [(key: Key, value: Value)] {
        index.values.compactMap { position in
            let slot = Int(position)
            let entry = meta[slot]
            guard entry.freshUntil > now, entry.idleUntil > now, isCurrent(slot) else { return nil }
            return (keys[slot].unsafelyUnwrapped, values[slot].unsafelyUnwrapped)
        }
    }

    // MARK: Writing

    /// Inserts or replaces `key`, then evicts what capacity requires.
    @inlinable mutating func insert(
        _ value: Value, for key: Key, hash: Int, weight: Int, freshUntil: Int64, staleUntil: Int64, graceUntil: Int64, tag: String?, at now: Int64
    ) {
        failures[key] = nil
        let idleUntil = timeToIdle.map { now + $0 } ?? Int64.max
        let generation = tag.map { tagGenerations[$0, default: 0] } ?? 0
        if let position = index[key] {
            statistics.replaced += 1
            let slot = Int(position)
            lists[Int(meta[slot].region.rawValue)].weight += weight - meta[slot].weight
            meta[slot].weight = weight
            meta[slot].freshUntil = freshUntil
            meta[slot].staleUntil = staleUntil
            meta[slot].graceUntil = graceUntil
            meta[slot].idleUntil = idleUntil
            meta[slot].tagGeneration = generation
            meta[slot].hasTag = tag != nil
            values[slot] = value
            tags[slot] = tag
            touch(position, at: now)
        } else {
            guard weight <= capacity else { return }  // could never fit
            sketch.increment(hash)
            let entry = Meta(
                weight: weight, freshUntil: freshUntil, staleUntil: staleUntil, graceUntil: graceUntil, idleUntil: idleUntil,
                tagGeneration: generation, hasTag: tag != nil, region: .window)
            let position: Int32
            if let reused = free.popLast() {
                position = reused
                let slot = Int(position)
                meta[slot] = entry
                keys[slot] = key
                values[slot] = value
                tags[slot] = tag
            } else {
                position = Int32(meta.count)
                meta.append(entry)
                keys.append(key)
                values.append(value)
                tags.append(tag)
            }
            index[key] = position
            append(position, to: .window)
        }
        evict()
    }

    /// Removes `key`'s entry; returns its value.
    @inlinable mutating func removeValue(for key: Key) -> Value? {
        failures[key] = nil
        guard let position = index[key] else { return nil }
        let value = values[Int(position)]
        remove(at: position, cause: .explicit)
        return value
    }

    /// Removes every entry for which `predicate` is true.
    @inlinable mutating func removeAll(where predicate: (Key, Value) throws -> Bool) rethrows {
        for position in Array(index.values) {
            let slot = Int(position)
            if try predicate(keys[slot].unsafelyUnwrapped, values[slot].unsafelyUnwrapped) { remove(at: position, cause: .explicit) }
        }
    }

    /// Removes every entry and remembered failure.
    @inlinable mutating func removeAll() {
        removeAll { _, _ in true }
        failures.removeAll()
    }

    /// Makes every entry inserted with `tag` so far invalid (removed when next met).
    @inlinable mutating func invalidate(tag: String) {
        tagGenerations[tag, default: 0] += 1
    }

    /// Removes every entry that can no longer be returned at `now`.
    @inlinable mutating func removeExpired(at now: Int64) {
        for position in Array(index.values) {
            let slot = Int(position)
            let current = isCurrent(slot)
            if meta[slot].graceUntil <= now || meta[slot].idleUntil <= now || !current {
                remove(at: position, cause: current ? .expired : .explicit)
            }
        }
        failures = failures.filter { $0.value.until > now }
    }

    // MARK: Eviction

    /// Counts an access: the entry moves to the front of its list, a probation entry is promoted.
    @inlinable mutating func touch(_ position: Int32, at now: Int64) {
        let slot = Int(position)
        if let timeToIdle { meta[slot].idleUntil = now + timeToIdle }
        let region = meta[slot].region
        unlink(position)
        switch region {
        case .window, .protected:
            append(position, to: region)
        case .probation:
            append(position, to: .protected)
            while lists[Int(Region.protected.rawValue)].weight > protectedCapacity {
                let demoted = lists[Int(Region.protected.rawValue)].head
                unlink(demoted)
                append(demoted, to: .probation)
            }
        }
    }

    /// Moves entries out of the full window into probation, then, while over capacity, lets the
    /// sketch choose between the newest probation entry (the candidate) and the oldest (the victim).
    @inlinable mutating func evict() {
        while lists[Int(Region.window.rawValue)].weight > windowCapacity {
            let moved = lists[Int(Region.window.rawValue)].head
            unlink(moved)
            append(moved, to: .probation)
        }
        while totalWeight > capacity {
            let probation = lists[Int(Region.probation.rawValue)]
            let loser: Int32
            if probation.head == -1 {
                // Everything is protected or in the window: the oldest protected entry goes.
                let protected = lists[Int(Region.protected.rawValue)].head
                loser = protected != -1 ? protected : lists[Int(Region.window.rawValue)].head
            } else if probation.head == probation.tail {
                loser = probation.head
            } else {
                let candidateFrequency = sketch.frequency(keys[Int(probation.tail)].unsafelyUnwrapped.hashValue)
                let victimFrequency = sketch.frequency(keys[Int(probation.head)].unsafelyUnwrapped.hashValue)
                loser = candidateFrequency > victimFrequency ? probation.head : probation.tail
            }
            remove(at: loser, cause: .size)
        }
    }

    /// Why an entry leaves.
    @usableFromInline enum RemovalCause { case size, expired, explicit }

    @inlinable mutating func remove(at position: Int32, cause: RemovalCause) {
        switch cause {
        case .size: statistics.evictedBySize += 1
        case .expired: statistics.evictedExpired += 1
        case .explicit: statistics.evictedExplicitly += 1
        }
        unlink(position)
        let slot = Int(position)
        index[keys[slot].unsafelyUnwrapped] = nil
        keys[slot] = nil
        values[slot] = nil
        tags[slot] = nil
        free.append(position)
    }

    @inlinable mutating func append(_ position: Int32, to region: Region) {
        let list = Int(region.rawValue)
        let slot = Int(position)
        meta[slot].region = region
        meta[slot].previous = lists[list].tail
        meta[slot].next = -1
        if lists[list].tail != -1 { meta[Int(lists[list].tail)].next = position } else { lists[list].head = position }
        lists[list].tail = position
        lists[list].weight += meta[slot].weight
    }

    @inlinable mutating func unlink(_ position: Int32) {
        let entry = meta[Int(position)]
        let list = Int(entry.region.rawValue)
        if entry.previous != -1 { meta[Int(entry.previous)].next = entry.next } else { lists[list].head = entry.next }
        if entry.next != -1 { meta[Int(entry.next)].previous = entry.previous } else { lists[list].tail = entry.previous }
        lists[list].weight -= entry.weight
    }
}
