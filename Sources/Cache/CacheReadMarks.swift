public import Synchronization

/// Which entries of a shard are in its policy's protected list, and how often each of those was
/// read since the policy last looked: the state that lets a reader of a protected entry leave the
/// ``CachePolicy`` alone.
///
/// A read of a protected entry only adds one to the count in the entry's mark. The policy takes
/// the count when its clock (second chance) comes by the entry, about to demote the protected
/// list's oldest entry to probation: it adds the reads to its frequency sketch, as if it had heard
/// of each, and moves the entry to the back instead when there were any. Under a skewed load most
/// reads are of protected entries, so most reads leave the policy's lists and sketch alone:
/// reporting them made the two cores pass those lines back and forth (measured on two cores:
/// 10.7-11.7 M reads/s when every hit was reported, 14.8-16.8 M when none was). A hot entry's
/// count is full already, so reading it writes nothing. Counting the reads, not only marking them,
/// keeps the sketch's counts of protected entries level with those of newcomers, whose every read
/// it hears (BENCHMARKS.md, cache: a loop over more keys than the cache holds otherwise let
/// newcomers outcount the entries it kept).
///
/// One byte per position: 0 outside the protected list; else `protected`, plus the count of reads
/// (up to about 60) in the upper six bits, so that counting never changes the lower two. Readers
/// holding only their stripe count reads while a reader applying its recorded reads changes the
/// marks, so every byte is an `Atomic` (a lost update costs a read or two of the count, as a full
/// read buffer costs a few recorded reads). The table of marks grows only with every stripe taken.
/// The ``CacheSegment`` that allocates the marks frees them (``deallocate()``).
@usableFromInline
struct CacheReadMarks: @unchecked Sendable {
    // @unchecked Sendable: the marks are `Atomic`s; the table's pointer and count change only while
    // the segment is exclusively held (after every stripe lock is taken, so readers see them).
    @usableFromInline struct Table {
        @usableFromInline var marks: UnsafeMutablePointer<Atomic<UInt8>>
        @usableFromInline var count: Int
    }

    /// The table, on cache lines of its own (readers read it on every hit).
    @usableFromInline let table: UnsafeMutablePointer<Table>

    @inlinable static var protected: UInt8 { 1 }
    /// One read, in the count kept in a mark's upper six bits.
    @inlinable static var oneRead: UInt8 { 4 }
    /// A protected entry's mark whose count can take no more reads.
    @inlinable static var full: UInt8 { 0xF1 }

    /// Marks for positions `0..<count`, none set.
    init(count: Int) {
        table = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128).bindMemory(to: Table.self, capacity: 1)
        table.initialize(to: Table(marks: Self.allocateMarks(count), count: count))
    }

    static func allocateMarks(_ count: Int) -> UnsafeMutablePointer<Atomic<UInt8>> {
        let marks = UnsafeMutablePointer<Atomic<UInt8>>.allocate(capacity: max(1, count))
        for position in 0..<count { (marks + position).initialize(to: Atomic(0)) }
        return marks
    }

    static func deallocateMarks(_ table: Table) {
        for position in 0..<table.count { _ = (table.marks + position).move() }
        table.marks.deallocate()
    }

    /// Frees the marks; they must not be used afterwards.
    func deallocate() {
        Self.deallocateMarks(table.pointee)
        table.deinitialize(count: 1)
        UnsafeMutableRawPointer(table).deallocate()
    }

    /// How many positions have marks.
    @inlinable var count: Int { table.pointee.count }

    /// Makes room for marks of positions below `count` at least; only while no reader runs.
    @usableFromInline func grow(toCover count: Int) {
        let old = table.pointee
        guard count > old.count else { return }
        let grown = max(count, old.count * 2)
        let marks = Self.allocateMarks(grown)
        for position in 0..<old.count {
            (marks + position).pointee.store((old.marks + position).pointee.load(ordering: .relaxed), ordering: .relaxed)
        }
        table.pointee = Table(marks: marks, count: grown)
        Self.deallocateMarks(old)
    }

    @inlinable func mark(_ position: Int32) -> UnsafeMutablePointer<Atomic<UInt8>> {
        table.pointee.marks + Int(position)
    }

    // MARK: Readers

    /// A read of the entry at `position`: when it is protected, counts the read in its mark
    /// (writing only until the count is full) and returns `true`; the policy need not hear of it.
    @inlinable func readIfProtected(_ position: Int32) -> Bool {
        let mark = mark(position)
        let current = mark.pointee.load(ordering: .relaxed)
        guard current & Self.protected != 0 else { return false }
        if current < Self.full { mark.pointee.wrappingAdd(Self.oneRead, ordering: .relaxed) }
        return true
    }

    // MARK: The policy

    /// The entry at `position` entered the protected list, with no read counted yet.
    @inlinable func setProtected(_ position: Int32) {
        mark(position).pointee.store(Self.protected, ordering: .relaxed)
    }

    /// The entry at `position` left the protected list.
    @inlinable func clear(_ position: Int32) {
        mark(position).pointee.store(0, ordering: .relaxed)
    }

    /// Counts a read of the protected entry at `position` (until the count is full).
    @inlinable func countRead(_ position: Int32) {
        let mark = mark(position)
        if mark.pointee.load(ordering: .relaxed) < Self.full { mark.pointee.wrappingAdd(Self.oneRead, ordering: .relaxed) }
    }

    /// The reads counted in the mark of the protected entry at `position` (not yet in the sketch).
    @inlinable func reads(_ position: Int32) -> Int {
        Int(mark(position).pointee.load(ordering: .relaxed) >> 2)
    }

    /// The reads counted in the mark of the protected entry at `position` since it was last asked;
    /// clears the count.
    @inlinable func takeReads(_ position: Int32) -> Int {
        Int(mark(position).pointee.exchange(Self.protected, ordering: .relaxed) >> 2)
    }
}
