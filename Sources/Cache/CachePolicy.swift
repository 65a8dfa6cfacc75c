/// W-TinyLFU eviction over a shard's entry positions: a small LRU window, then a segmented LRU of
/// probation and protected entries, guarded by a frequency sketch that admits a newcomer only when
/// it is seen more often than the entry it would push out.
///
/// It knows positions, hashes and weights, never keys or values, so the reads recorded by readers
/// can be applied to it while other readers look entries up in the shard (see ``CacheSegment``).
/// A value type.
@usableFromInline
struct CachePolicy: Sendable {
    @usableFromInline enum Region: UInt8, Sendable { case window, probation, protected, absent }

    /// An entry's place in the lists.
    @usableFromInline struct Link: Sendable {
        @usableFromInline var hash: Int
        @usableFromInline var weight: Int
        @usableFromInline var previous: Int32 = -1
        @usableFromInline var next: Int32 = -1
        /// Its list's count of appends when it was appended (see ``touch(_:)``).
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

    /// A policy keeping the total weight at most `capacity`: 1 % window, 80 % of the rest protected.
    @inlinable init(capacity: Int) {
        self.capacity = capacity
        windowCapacity = max(1, capacity / 100)
        protectedCapacity = (capacity - windowCapacity) * 8 / 10
        sketch = FrequencySketch(capacity: capacity)
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
    /// A read of a protected entry in the back half of its list changes nothing, not even the
    /// sketch: its count only matters once it is demoted to probation, where its reads count
    /// again. Reading the sketch's counters was 13 % of a read's time on two cores (a cache miss);
    /// the hit ratios did not move (49.27 % on the Zipf trace, against 49.21 % counting every read).
    @inlinable mutating func recordRead(hash: Int, position: Int32) {
        let slot = Int(position)
        guard position >= 0, slot < links.count, links[slot].region != .absent, links[slot].hash == hash else {
            sketch.increment(hash)
            return
        }
        let recent = isRecent(position)
        if recent && links[slot].region == .protected { return }
        sketch.increment(hash)
        if !recent { moveToBack(position) }
    }

    /// Whether the entry at `position`, in the window or the protected list, is in the back half
    /// of its list (fewer than half the list's count were appended after it).
    @inlinable func isRecent(_ position: Int32) -> Bool {
        let link = links[Int(position)]
        guard link.region == .window || link.region == .protected else { return false }
        let list = lists[Int(link.region.rawValue)]
        return list.appends &- link.appendedAt &- 1 < UInt32(truncatingIfNeeded: max(1, list.count / 2))
    }

    /// An access: the entry moves to the back of its list; a probation entry is promoted.
    ///
    /// An entry of the window or the protected list already in the back half of its list stays
    /// where it is (fewer than half the list's count were appended after it, so it is not among
    /// the older half that demotion and eviction take from). Reads of hot keys so write nothing to
    /// the policy: two cores applying their reads to one shard's policy would otherwise pass its
    /// lists' memory back and forth on every read (measured: recording reads cost a third of the
    /// 2-thread read throughput). Memcached's segmented LRU and RocksDB's cache bump recently used
    /// items lazily for the same reason.
    @inlinable mutating func touch(_ position: Int32) {
        if !isRecent(position) { moveToBack(position) }
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
            while lists[Int(Region.protected.rawValue)].weight > protectedCapacity {
                let demoted = lists[Int(Region.protected.rawValue)].head
                unlink(demoted)
                append(demoted, to: .probation)
            }
        }
    }

    // MARK: Entries coming and going

    /// A new entry at `position`, in the window.
    @inlinable mutating func add(_ position: Int32, hash: Int, weight: Int) {
        sketch.increment(hash)
        let slot = Int(position)
        while links.count <= slot { links.append(Link(hash: 0, weight: 0, region: .absent)) }
        links[slot] = Link(hash: hash, weight: weight, region: .absent)
        append(position, to: .window)
    }

    /// The entry at `position` was replaced with one of `weight`: an access.
    @inlinable mutating func replace(_ position: Int32, weight: Int) {
        let slot = Int(position)
        lists[Int(links[slot].region.rawValue)].weight += weight - links[slot].weight
        links[slot].weight = weight
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
    }

    @inlinable mutating func unlink(_ position: Int32) {
        let link = links[Int(position)]
        guard link.region != .absent else { return }
        let list = Int(link.region.rawValue)
        if link.previous != -1 { links[Int(link.previous)].next = link.next } else { lists[list].head = link.next }
        if link.next != -1 { links[Int(link.next)].previous = link.previous } else { lists[list].tail = link.previous }
        lists[list].weight -= link.weight
        lists[list].count -= 1
    }
}
