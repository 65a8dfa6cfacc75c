/// W-TinyLFU eviction over a shard's entry positions: a small LRU window, then a segmented LRU of
/// probation and protected entries, guarded by a frequency sketch that admits a newcomer only when
/// it is seen more often than the entry it would push out.
///
/// It knows positions, hashes and weights, never keys or values, so the reads recorded by readers
/// can be applied to it while other readers look entries up in the shard (see ``CacheSegment``).
/// A value type, except for its ``CacheReadMarks``, which it keeps up to date for the shard's
/// readers: a copy shares them, so only the segment's one policy uses them.
@usableFromInline
struct CachePolicy: Sendable {
    @usableFromInline enum Region: UInt8, Sendable { case window, probation, protected, absent }

    /// An entry's place in the lists.
    @usableFromInline struct Link: Sendable {
        @usableFromInline var hash: Int
        @usableFromInline var weight: Int
        @usableFromInline var previous: Int32 = -1
        @usableFromInline var next: Int32 = -1
        /// Its list's count of appends when it was appended (see ``isRecentInWindow(_:)``).
        @usableFromInline var appendedAt: UInt32 = 0
        @usableFromInline var region: Region

        @inlinable init(hash: Int, weight: Int, region: Region) {
            self.hash = hash
            self.weight = weight
            self.region = region
        }
    }

    /// A doubly linked list of positions, least recently used at the head.
    @usableFromInline struct List: Sendable {
        @usableFromInline var head: Int32 = -1
        @usableFromInline var tail: Int32 = -1
        @usableFromInline var weight = 0
        @usableFromInline var count = 0
        /// How many appends were made to the list (wrapping).
        @usableFromInline var appends: UInt32 = 0

        @inlinable init() {}
    }

    @usableFromInline var links: [Link] = []
    @usableFromInline var lists = [List(), List(), List()]
    @usableFromInline var sketch: FrequencySketch
    @usableFromInline let capacity: Int
    @usableFromInline let windowCapacity: Int
    @usableFromInline let protectedCapacity: Int
    /// Which entries are protected, and which of those were read since demotion last passed them
    /// (see ``CacheReadMarks``).
    @usableFromInline let readMarks: CacheReadMarks

    /// A policy keeping the total weight at most `capacity`: 1 % window, 80 % of the rest
    /// protected. It keeps `readMarks` up to date.
    @inlinable init(capacity: Int, readMarks: CacheReadMarks) {
        self.capacity = capacity
        windowCapacity = max(1, capacity / 100)
        protectedCapacity = (capacity - windowCapacity) * 8 / 10
        sketch = FrequencySketch(capacity: capacity)
        self.readMarks = readMarks
    }

    @inlinable var totalWeight: Int { lists[0].weight + lists[1].weight + lists[2].weight }

    // MARK: Accesses

    /// Counts a sighting of `hash` (a read, whether it found an entry or not).
    @inlinable mutating func countSighting(of hash: Int) {
        sketch.increment(hash)
    }

    /// Applies a read recorded without the policy: counts `hash` and, when `position` (-1 for a
    /// miss) still holds an entry of that hash, treats it as accessed.
    ///
    /// A read of a protected entry only marks it referenced, and leaves the sketch alone: its
    /// count matters only once it is demoted to probation, where its reads count again. (Readers
    /// mark protected entries themselves and record only the other reads; see ``CacheReadMarks``.)
    @inlinable mutating func recordRead(hash: Int, position: Int32) {
        let slot = Int(position)
        guard position >= 0, slot < links.count, links[slot].region != .absent, links[slot].hash == hash else {
            sketch.increment(hash)
            return
        }
        if links[slot].region != .protected { sketch.increment(hash) }
        touch(position)
    }

    /// Whether the entry at `position`, in the window, is in the back half of its list (fewer than
    /// half the list's count were appended after it).
    @inlinable func isRecentInWindow(_ position: Int32) -> Bool {
        let link = links[Int(position)]
        let list = lists[Int(Region.window.rawValue)]
        return list.appends &- link.appendedAt &- 1 < UInt32(truncatingIfNeeded: max(1, list.count / 2))
    }

    /// An access: a probation entry is promoted; a protected entry is marked referenced, so that
    /// demotion passes it over once; a window entry moves to the back of the window unless it is
    /// in the back half already (it is not among the older half that eviction takes from).
    ///
    /// Reads of hot keys so write nothing to the lists: two cores applying their reads to one
    /// shard's policy would otherwise pass the lists' memory back and forth on every read
    /// (measured: recording reads cost a third of the 2-thread read throughput). Memcached's
    /// segmented LRU and RocksDB's cache bump recently used items lazily for the same reason.
    @inlinable mutating func touch(_ position: Int32) {
        switch links[Int(position)].region {
        case .protected: readMarks.setReferenced(position)
        case .window: if !isRecentInWindow(position) { moveToBack(position) }
        case .probation: moveToBack(position)
        case .absent: break
        }
    }

    /// Moves the entry at `position` to the back of its list, or promotes it from probation.
    @inlinable mutating func moveToBack(_ position: Int32) {
        let region = links[Int(position)].region
        unlink(position)
        switch region {
        case .window, .protected, .absent:
            append(position, to: region)
        case .probation:
            append(position, to: .protected)
            // The protected list's clock: its oldest entry goes to probation unless it was read
            // since it last came by, when it goes round once more (each entry at most once per
            // promotion, as readers may mark entries again meanwhile).
            var secondChances = lists[Int(Region.protected.rawValue)].count
            while lists[Int(Region.protected.rawValue)].weight > protectedCapacity {
                let oldest = lists[Int(Region.protected.rawValue)].head
                let read = readMarks.takeReference(oldest)
                unlink(oldest)
                if read && secondChances > 0 {
                    secondChances -= 1
                    append(oldest, to: .protected)
                } else {
                    append(oldest, to: .probation)
                }
            }
        }
    }

    // MARK: Entries coming and going

    /// A new entry at `position`, in the window.
    @inlinable mutating func add(_ position: Int32, hash: Int, weight: Int) {
        sketch.increment(hash)
        let slot = Int(position)
        while links.count <= slot { links.append(Link(hash: 0, weight: 0, region: .absent)) }
        readMarks.grow(toCover: links.count)
        links[slot] = Link(hash: hash, weight: weight, region: .absent)
        append(position, to: .window)
    }

    /// The entry at `position` was replaced with one of `weight`: an access.
    @inlinable mutating func replace(_ position: Int32, weight: Int) {
        let slot = Int(position)
        // Unchanged weights write nothing: the lists' line is the policy's busiest.
        if weight != links[slot].weight {
            lists[Int(links[slot].region.rawValue)].weight += weight - links[slot].weight
            links[slot].weight = weight
        }
        touch(position)
    }

    /// The entry at `position` is gone.
    @inlinable mutating func remove(_ position: Int32) {
        unlink(position)
        links[Int(position)].region = .absent
    }

    /// The entry to evict next, or `nil` within capacity: entries beyond the window's share move
    /// into probation, then the sketch chooses between the newest probation entry (the candidate)
    /// and the oldest (the victim).
    @inlinable mutating func nextEviction() -> Int32? {
        while lists[Int(Region.window.rawValue)].weight > windowCapacity {
            let moved = lists[Int(Region.window.rawValue)].head
            unlink(moved)
            append(moved, to: .probation)
        }
        guard totalWeight > capacity else { return nil }
        let probation = lists[Int(Region.probation.rawValue)]
        if probation.head == -1 {
            // Everything is protected or in the window: the oldest protected entry goes.
            let protected = lists[Int(Region.protected.rawValue)].head
            return protected != -1 ? protected : lists[Int(Region.window.rawValue)].head
        }
        if probation.head == probation.tail { return probation.head }
        let candidateFrequency = sketch.frequency(links[Int(probation.tail)].hash)
        let victimFrequency = sketch.frequency(links[Int(probation.head)].hash)
        return candidateFrequency > victimFrequency ? probation.head : probation.tail
    }

    // MARK: Lists

    @inlinable mutating func append(_ position: Int32, to region: Region) {
        let slot = Int(position)
        links[slot].region = region
        guard region != .absent else { return }
        let list = Int(region.rawValue)
        links[slot].previous = lists[list].tail
        links[slot].next = -1
        links[slot].appendedAt = lists[list].appends
        if lists[list].tail != -1 { links[Int(lists[list].tail)].next = position } else { lists[list].head = position }
        lists[list].tail = position
        lists[list].weight += links[slot].weight
        lists[list].count += 1
        lists[list].appends &+= 1
        if region == .protected { readMarks.setProtected(position) }
    }

    @inlinable mutating func unlink(_ position: Int32) {
        let link = links[Int(position)]
        guard link.region != .absent else { return }
        let list = Int(link.region.rawValue)
        if link.previous != -1 { links[Int(link.previous)].next = link.next } else { lists[list].head = link.next }
        if link.next != -1 { links[Int(link.next)].previous = link.previous } else { lists[list].tail = link.previous }
        lists[list].weight -= link.weight
        lists[list].count -= 1
        if link.region == .protected { readMarks.clear(position) }
    }
}
