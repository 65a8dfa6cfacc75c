/// W-TinyLFU eviction over a shard's entry positions: an LRU window, then a segmented LRU of
/// probation and protected entries, guarded by a frequency sketch that admits a newcomer only when
/// it is seen more often than the entry it would push out.
///
/// The window starts at 1 % of the capacity and adapts to the load as ARC adapts its lists: the
/// policy remembers what it evicted last (``CacheGhosts``), and a miss on a newcomer the sketch
/// refused grows the window (while the window earns its space), a miss on an entry the main lists
/// had kept shrinks it. Loads where
/// popularity lasts keep a small window (the sketch keeps one-time keys out); loads where what was
/// read recently is read next grow it until recent keys stay.
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
        /// Whether it came into probation from the window and the main lists have not kept it yet
        /// (it neither won a contest with a victim nor was read there).
        @usableFromInline var isNewcomer = false

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
    /// The window's share of the capacity (see ``adaptWindow(after:weight:)``).
    @usableFromInline var windowCapacity: Int
    /// 80 % of what the window leaves.
    @usableFromInline var protectedCapacity: Int
    /// The smallest window: 1 % of the capacity.
    @usableFromInline let minimumWindowCapacity: Int
    /// What was evicted last; as many ghosts as the policy has held entries, up to `capacity`.
    @usableFromInline var ghosts = CacheGhosts(capacity: 64)
    /// The shard's hits so far, as its segment last set them (see ``CacheSegment``).
    @usableFromInline var hits = 0
    /// The hits on window entries so far.
    @usableFromInline var windowHits = 0
    /// Both counts when the current period began, and how many of each the previous period saw: a
    /// period ends once it has seen more hits than the policy holds entries.
    @usableFromInline var periodStart = (hits: 0, windowHits: 0)
    @usableFromInline var previousPeriod = (hits: 0, windowHits: 0)
    /// Which entries are protected, and which of those were read since demotion last passed them
    /// (see ``CacheReadMarks``).
    @usableFromInline let readMarks: CacheReadMarks

    /// A policy keeping the total weight at most `capacity`: a window of 1 % to start with, 80 % of
    /// the rest protected. It keeps `readMarks` up to date.
    @inlinable init(capacity: Int, readMarks: CacheReadMarks) {
        self.capacity = capacity
        minimumWindowCapacity = max(1, capacity / 100)
        windowCapacity = minimumWindowCapacity
        protectedCapacity = (capacity - windowCapacity) * 8 / 10
        sketch = FrequencySketch(capacity: capacity)
        self.readMarks = readMarks
    }

    @inlinable var totalWeight: Int { lists[0].weight + lists[1].weight + lists[2].weight }

    // MARK: Accesses

    /// Counts a read of `hash` that found an entry the policy does not otherwise hear of (a stale one).
    @inlinable mutating func countSighting(of hash: Int) {
        sketch.increment(hash)
    }

    /// Applies a read recorded without the policy: when `position` still holds an entry of
    /// `hash`, treats it as accessed (see ``touch(_:)``).
    @inlinable mutating func recordRead(hash: Int, position: Int32) {
        let slot = Int(position)
        guard slot < links.count, links[slot].region != .absent, links[slot].hash == hash else { return }
        touch(position)
    }

    /// Whether the entry at `position`, in the window, is in the back half of its list (fewer than
    /// half the list's count were appended after it).
    @inlinable func isRecentInWindow(_ position: Int32) -> Bool {
        let link = links[Int(position)]
        let list = lists[Int(Region.window.rawValue)]
        return list.appends &- link.appendedAt &- 1 < UInt32(truncatingIfNeeded: max(1, list.count / 2))
    }

    /// An access, counted by the sketch: a probation entry is promoted; a protected entry has the
    /// read counted in its mark, which the sketch hears of when demotion passes it (see
    /// ``CacheReadMarks``); a window entry moves to the back of the window unless it is in the back
    /// half already (it is not among the older half that eviction takes from).
    ///
    /// Reads of hot keys so write nothing to the lists: two cores applying their reads to one
    /// shard's policy would otherwise pass the lists' memory back and forth on every read
    /// (measured: recording reads cost a third of the 2-thread read throughput). Memcached's
    /// segmented LRU and RocksDB's cache bump recently used items lazily for the same reason.
    @inlinable mutating func touch(_ position: Int32) {
        switch links[Int(position)].region {
        case .protected: readMarks.countRead(position)
        case .window:
            sketch.increment(links[Int(position)].hash)
            windowHits &+= 1
            if !isRecentInWindow(position) { moveToBack(position) }
        case .probation:
            sketch.increment(links[Int(position)].hash)
            moveToBack(position)
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
            links[Int(position)].isNewcomer = false
            append(position, to: .protected)
            // The protected list's clock: its oldest entry goes to probation unless it was read
            // since it last came by, when it goes round once more (each entry at most once per
            // promotion, as readers may count reads again meanwhile). The sketch hears of the
            // reads counted meanwhile.
            var secondChances = lists[Int(Region.protected.rawValue)].count
            while lists[Int(Region.protected.rawValue)].weight > protectedCapacity {
                let oldest = lists[Int(Region.protected.rawValue)].head
                let reads = readMarks.takeReads(oldest)
                if reads > 0 { sketch.increment(links[Int(oldest)].hash, by: reads) }
                unlink(oldest)
                if reads > 0 && secondChances > 0 {
                    secondChances -= 1
                    append(oldest, to: .protected)
                } else {
                    append(oldest, to: .probation)
                }
            }
        }
    }

    // MARK: Entries coming and going

    /// A new entry at `position`, in the window. When it was evicted a short while ago, the window
    /// adapts (see ``adaptWindow(after:weight:)``).
    @inlinable mutating func add(_ position: Int32, hash: Int, weight: Int) {
        sketch.increment(hash)
        if let origin = ghosts.take(hash) { adaptWindow(after: origin, weight: weight) }
        let slot = Int(position)
        if slot >= links.count {
            while links.count <= slot { links.append(Link(hash: 0, weight: 0, region: .absent)) }
            readMarks.grow(toCover: links.count)
            if links.count > ghosts.capacity && ghosts.capacity < capacity {
                ghosts = CacheGhosts(capacity: min(capacity, 2 * links.count))
            }
        }
        links[slot] = Link(hash: hash, weight: weight, region: .absent)
        append(position, to: .window)
    }

    /// Moves the window's share after a miss on a key evicted from `origin`, by the new entry's
    /// `weight` times the ratio of the other origin's ghosts to this one's (at least 1), as ARC
    /// does: a window too small for the load loses newcomers that are read again, a main too
    /// small loses entries it had kept.
    ///
    /// A refused newcomer read again grows the window only while the window earns more than half as
    /// many recent hits per unit of weight as the main lists, and shrinks it by its weight
    /// otherwise. (Half: on a working set that slides, the window's entries, younger, have fewer
    /// hits so far than the main lists' while both hold keys that are still read.) A loop over
    /// more keys than the cache holds brings refused newcomers back too, but a larger window would
    /// only turn the cache into an LRU, which keeps nothing of a loop: there the window earns no
    /// hits, and stays small. The window and the main lists each keep at least 1 % of the
    /// capacity, so that both still evict and a change of load is still heard; entries move
    /// between the lists as the next eviction requires. (Recent: the current period of hits and
    /// the one before it.)
    @inlinable mutating func adaptWindow(after origin: CacheGhosts.Origin, weight: Int) {
        guard capacity > 2 else { return }
        switch origin {
        case .window:
            if hits &- periodStart.hits > links.count {
                previousPeriod = (hits &- periodStart.hits, windowHits &- periodStart.windowHits)
                periodStart = (hits, windowHits)
            }
            let recentWindowHits = previousPeriod.windowHits + (windowHits &- periodStart.windowHits)
            let recentMainHits = previousPeriod.hits + (hits &- periodStart.hits) - recentWindowHits
            let windowWeight = max(1, lists[Int(Region.window.rawValue)].weight)
            let mainWeight = max(1, lists[Int(Region.probation.rawValue)].weight + lists[Int(Region.protected.rawValue)].weight)
            if recentWindowHits * mainWeight * 2 > recentMainHits * windowWeight {
                let step = weight * max(1, ghosts.mainCount / max(1, ghosts.windowCount))
                windowCapacity = min(capacity - minimumWindowCapacity, windowCapacity + step)
            } else {
                windowCapacity = max(minimumWindowCapacity, windowCapacity - weight)
            }
        case .main:
            let step = weight * max(1, ghosts.windowCount / max(1, ghosts.mainCount))
            windowCapacity = max(minimumWindowCapacity, windowCapacity - step)
        }
        protectedCapacity = (capacity - windowCapacity) * 8 / 10
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
    /// and the oldest (the victim). The evicted entry's hash is remembered among the ghosts.
    @inlinable mutating func nextEviction() -> Int32? {
        while lists[Int(Region.window.rawValue)].weight > windowCapacity {
            let moved = lists[Int(Region.window.rawValue)].head
            unlink(moved)
            append(moved, to: .probation)
            links[Int(moved)].isNewcomer = true
        }
        guard totalWeight > capacity else { return nil }
        let probation = lists[Int(Region.probation.rawValue)]
        let evicted: Int32
        if probation.head == -1 {
            // Everything is protected or in the window: the oldest protected entry goes.
            let protected = lists[Int(Region.protected.rawValue)].head
            evicted = protected != -1 ? protected : lists[Int(Region.window.rawValue)].head
        } else if probation.head == probation.tail {
            // The candidate alone in probation: its rival is the oldest protected entry, so that
            // the main lists, however small the window left them, still take in newcomers read
            // more often than what they hold.
            let protected = lists[Int(Region.protected.rawValue)].head
            if protected != -1
                && sketch.frequency(links[Int(probation.head)].hash)
                    > min(15, sketch.frequency(links[Int(protected)].hash) + readMarks.reads(protected))
            {
                links[Int(probation.head)].isNewcomer = false
                evicted = protected
            } else {
                evicted = probation.head
            }
        } else if sketch.frequency(links[Int(probation.tail)].hash) > sketch.frequency(links[Int(probation.head)].hash) {
            links[Int(probation.tail)].isNewcomer = false
            evicted = probation.head
        } else {
            evicted = probation.tail
        }
        let link = links[Int(evicted)]
        ghosts.remember(link.hash, from: link.region == .window || link.isNewcomer ? .window : .main)
        return evicted
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
