public import Synchronization

/// Which entries of a shard are in its policy's protected list, and which of those were read
/// since the policy last looked: the state that lets a reader of a protected entry leave the
/// ``CachePolicy`` alone.
///
/// The protected list is a clock (second chance): a read of a protected entry only sets the
/// entry's referenced mark, and the policy, about to demote the list's oldest entry to probation,
/// moves it to the back instead when the mark is set, clearing it. Under a skewed load most reads
/// are of protected entries, so most reads leave the policy's lists and sketch alone: reporting
/// them made the two cores pass those lines back and forth (measured on two cores: 10.7-11.7 M
/// reads/s when every hit was reported, 14.8-16.8 M when none was). A hot entry's mark is set
/// already, so reading it writes nothing.
///
/// One byte per position: 0 outside the protected list, `protected`, or `protected | referenced`.
/// Readers holding only their stripe read and set marks while a reader applying its recorded reads
/// changes them, so every byte is an `Atomic` (a lost update costs one second chance, as a full
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
    @inlinable static var referenced: UInt8 { 2 }

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

    /// A read of the entry at `position`: when it is protected, marks it referenced (writing only
    /// when the mark is not set yet) and returns `true`; the policy need not hear of it.
    @inlinable func readIfProtected(_ position: Int32) -> Bool {
        let mark = mark(position)
        let current = mark.pointee.load(ordering: .relaxed)
        guard current & Self.protected != 0 else { return false }
        if current & Self.referenced == 0 { mark.pointee.bitwiseOr(Self.referenced, ordering: .relaxed) }
        return true
    }

    // MARK: The policy

    /// The entry at `position` entered the protected list, not referenced yet.
    @inlinable func setProtected(_ position: Int32) {
        mark(position).pointee.store(Self.protected, ordering: .relaxed)
    }

    /// The entry at `position` left the protected list.
    @inlinable func clear(_ position: Int32) {
        mark(position).pointee.store(0, ordering: .relaxed)
    }

    /// Marks the protected entry at `position` referenced (writing only when it is not yet).
    @inlinable func setReferenced(_ position: Int32) {
        let mark = mark(position)
        if mark.pointee.load(ordering: .relaxed) != Self.protected | Self.referenced {
            mark.pointee.store(Self.protected | Self.referenced, ordering: .relaxed)
        }
    }

    /// Whether the protected entry at `position` was read since it was last asked; clears the
    /// referenced mark.
    @inlinable func takeReference(_ position: Int32) -> Bool {
        mark(position).pointee.exchange(Self.protected, ordering: .relaxed) & Self.referenced != 0
    }
}
