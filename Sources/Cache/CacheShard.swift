/// One independently locked part of a ``Cache``: a dictionary from keys to nodes of an array, and
/// W-TinyLFU eviction over them (a small LRU window, then a segmented LRU of probation and protected
/// entries, guarded by a frequency sketch that admits a newcomer only when it is seen more often
/// than the entry it would push out). Times are nanoseconds since the cache was created. A value
/// type, kept under its shard's lock; nothing here allocates on a hit.
@usableFromInline
struct CacheShard<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    @usableFromInline enum Region: UInt8, Sendable { case window, probation, protected }

    @usableFromInline struct Node: Sendable {
        @usableFromInline var key: Key
        @usableFromInline var value: Value
        @usableFromInline var weight: Int
        /// Fresh until; then stale (served while refreshing) until `staleUntil`; then served only when
        /// a fetch fails until `graceUntil`; then gone.
        @usableFromInline var freshUntil: Int64
        @usableFromInline var staleUntil: Int64
        @usableFromInline var graceUntil: Int64
        /// Gone when not read until then (time to idle); `Int64.max` without one.
        @usableFromInline var idleUntil: Int64
        @usableFromInline var tag: String?
        @usableFromInline var tagGeneration: Int
        @usableFromInline var region: Region
        @usableFromInline var previous: Int32 = -1
        @usableFromInline var next: Int32 = -1

        @inlinable
        init(
            key: Key, value: Value, weight: Int, freshUntil: Int64, staleUntil: Int64, graceUntil: Int64, idleUntil: Int64, tag: String?,
            tagGeneration: Int, region: Region
        ) {
            self.key = key
            self.value = value
            self.weight = weight
            self.freshUntil = freshUntil
            self.staleUntil = staleUntil
            self.graceUntil = graceUntil
            self.idleUntil = idleUntil
            self.tag = tag
            self.tagGeneration = tagGeneration
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

    @usableFromInline var nodes: [Node?] = []
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
        let node = nodes[Int(position)]!
        if node.graceUntil <= now || node.idleUntil <= now || !isCurrent(node) {
            remove(at: position, cause: isCurrent(node) ? .expired : .explicit)
            if counting { statistics.misses += 1 }
            return .missing
        }
        if node.freshUntil > now {
            if counting { statistics.hits += 1 }
            touch(position, at: now)
            return .fresh(node.value)
        }
        if counting { statistics.misses += 1 }
        return node.staleUntil > now ? .stale(node.value) : .lastGood(node.value)
    }

    /// Whether the node's tag was not invalidated since it was inserted.
    @inlinable func isCurrent(_ node: Node) -> Bool {
        guard let tag = node.tag else { return true }
        return tagGenerations[tag, default: 0] == node.tagGeneration
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
            let node = nodes[Int(position)]!
            return node.freshUntil > now && node.idleUntil > now && isCurrent(node) ? (node.key, node.value) : nil
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
            var node = nodes[Int(position)]!
            lists[Int(node.region.rawValue)].weight += weight - node.weight
            node.value = value
            node.weight = weight
            node.freshUntil = freshUntil
            node.staleUntil = staleUntil
            node.graceUntil = graceUntil
            node.idleUntil = idleUntil
            node.tag = tag
            node.tagGeneration = generation
            nodes[Int(position)] = node
            touch(position, at: now)
        } else {
            guard weight <= capacity else { return }  // could never fit
            sketch.increment(hash)
            let node = Node(
                key: key, value: value, weight: weight, freshUntil: freshUntil, staleUntil: staleUntil, graceUntil: graceUntil,
                idleUntil: idleUntil, tag: tag, tagGeneration: generation, region: .window)
            let position: Int32
            if let reused = free.popLast() {
                position = reused
                nodes[Int(position)] = node
            } else {
                position = Int32(nodes.count)
                nodes.append(node)
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
        let value = nodes[Int(position)]!.value
        remove(at: position, cause: .explicit)
        return value
    }

    /// Removes every entry for which `predicate` is true.
    @inlinable mutating func removeAll(where predicate: (Key, Value) throws -> Bool) rethrows {
        for position in Array(index.values) {
            let node = nodes[Int(position)]!
            if try predicate(node.key, node.value) { remove(at: position, cause: .explicit) }
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
            let node = nodes[Int(position)]!
            if node.graceUntil <= now || node.idleUntil <= now || !isCurrent(node) {
                remove(at: position, cause: isCurrent(node) ? .expired : .explicit)
            }
        }
        failures = failures.filter { $0.value.until > now }
    }

    // MARK: Eviction

    /// Counts an access: the entry moves to the front of its list, a probation entry is promoted.
    @inlinable mutating func touch(_ position: Int32, at now: Int64) {
        if let timeToIdle { nodes[Int(position)]!.idleUntil = now + timeToIdle }
        switch nodes[Int(position)]!.region {
        case .window, .protected:
            let region = nodes[Int(position)]!.region
            unlink(position)
            append(position, to: region)
        case .probation:
            unlink(position)
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
                let candidate = nodes[Int(probation.tail)]!
                let victim = nodes[Int(probation.head)]!
                let candidateFrequency = sketch.frequency(candidate.key.hashValue)
                let victimFrequency = sketch.frequency(victim.key.hashValue)
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
        index[nodes[Int(position)]!.key] = nil
        nodes[Int(position)] = nil
        free.append(position)
    }

    @inlinable mutating func append(_ position: Int32, to region: Region) {
        let list = Int(region.rawValue)
        nodes[Int(position)]!.region = region
        nodes[Int(position)]!.previous = lists[list].tail
        nodes[Int(position)]!.next = -1
        if lists[list].tail != -1 { nodes[Int(lists[list].tail)]!.next = position } else { lists[list].head = position }
        lists[list].tail = position
        lists[list].weight += nodes[Int(position)]!.weight
    }

    @inlinable mutating func unlink(_ position: Int32) {
        let node = nodes[Int(position)]!
        let list = Int(node.region.rawValue)
        if node.previous != -1 { nodes[Int(node.previous)]!.next = node.next } else { lists[list].head = node.next }
        if node.next != -1 { nodes[Int(node.next)]!.previous = node.previous } else { lists[list].tail = node.previous }
        lists[list].weight -= node.weight
    }
}
