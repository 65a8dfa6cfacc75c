@testable import Cache
import Testing

/// The eviction policy alone, over positions (no keys or values): its protected list's clock and
/// the read marks it shares with a shard's readers.
@Suite struct CachePolicyTests {
    /// A policy of `capacity` entries holding positions `0..<capacity`, all in probation but the
    /// newest (in the window), as inserts leave them.
    func filledPolicy(capacity: Int, marks: Int) -> CachePolicy {
        var policy = CachePolicy(capacity: capacity, readMarks: CacheReadMarks(count: marks))
        for position in 0..<Int32(capacity) {
            policy.add(position, hash: Int(position) &* 7_919, weight: 1)
            while let loser = policy.nextEviction() { policy.remove(loser) }
        }
        return policy
    }

    func regions(_ policy: CachePolicy, _ positions: Range<Int32>) -> [CachePolicy.Region] {
        positions.map { policy.links[Int($0)].region }
    }

    @Test func aProtectedEntryReadSinceItLastCameByGoesRoundOnceMore() {
        // Capacity 100: a window of 1, a protected list of 79, probation for the rest.
        var policy = filledPolicy(capacity: 100, marks: 101)
        defer { policy.readMarks.deallocate() }
        for position in 0..<Int32(79) { policy.touch(position) }
        #expect(regions(policy, 0..<79).allSatisfy { $0 == .protected })
        #expect(policy.lists[Int(CachePolicy.Region.protected.rawValue)].head == 0)

        // A reader counts a read of the oldest protected entry; the policy does not hear of it.
        #expect(policy.readMarks.readIfProtected(0))
        #expect(!policy.readMarks.readIfProtected(80), "probation entries are reported")

        // A promotion overflows the protected list: entry 0 was read, so entry 1 is demoted.
        policy.touch(79)
        #expect(regions(policy, 0..<3) == [.protected, .probation, .protected])
        #expect(policy.lists[Int(CachePolicy.Region.protected.rawValue)].tail == 0)

        // Its reads were taken: unread since, it is demoted when it comes by again, after the 78
        // entries now ahead of it.
        for _ in 0..<78 { policy.touch(policy.lists[Int(CachePolicy.Region.probation.rawValue)].head) }
        #expect(regions(policy, 0..<1) == [.protected])
        #expect(policy.lists[Int(CachePolicy.Region.protected.rawValue)].head == 0)
        policy.touch(policy.lists[Int(CachePolicy.Region.probation.rawValue)].head)
        #expect(regions(policy, 0..<1) == [.probation])
    }

    @Test func everyEntryReadStillDemotesOneAPromotion() {
        var policy = filledPolicy(capacity: 100, marks: 101)
        defer { policy.readMarks.deallocate() }
        for position in 0..<Int32(79) { policy.touch(position) }
        for position in 0..<Int32(79) { #expect(policy.readMarks.readIfProtected(position)) }
        policy.touch(79)
        let protected = policy.lists[Int(CachePolicy.Region.protected.rawValue)]
        #expect(protected.count == 79)
        #expect(regions(policy, 0..<80).filter { $0 == .probation }.count == 1)
    }

    @Test func marksGrowWithPositionsAndKeepTheirState() {
        // Marks for 2 positions: the policy grows them as positions are added.
        var policy = filledPolicy(capacity: 10, marks: 2)
        defer { policy.readMarks.deallocate() }
        #expect(policy.readMarks.count >= 10)
        policy.touch(0)
        #expect(policy.readMarks.readIfProtected(0))
        for position in Int32(10)..<40 {
            policy.add(position, hash: Int(position), weight: 0)
        }
        #expect(policy.readMarks.count >= 40)
        // Entry 0's mark survived the growth: it is protected with one read counted, so taking
        // its reads finds that one.
        #expect(policy.readMarks.takeReads(0) == 1)
        #expect(policy.readMarks.takeReads(0) == 0)
    }

    @Test func readsOfAProtectedEntryReachTheSketchWhenTheClockComesBy() {
        var policy = filledPolicy(capacity: 100, marks: 101)
        defer { policy.readMarks.deallocate() }
        for position in 0..<Int32(79) { policy.touch(position) }
        let before = policy.sketch.frequency(policy.links[0].hash)

        // Readers count three reads of the oldest protected entry; the sketch has not heard yet.
        for _ in 0..<3 { #expect(policy.readMarks.readIfProtected(0)) }
        #expect(policy.readMarks.reads(0) == 3)
        #expect(policy.sketch.frequency(policy.links[0].hash) == before)

        // A promotion brings the clock by: the three reads are counted, and entry 0 goes round.
        policy.touch(79)
        #expect(policy.sketch.frequency(policy.links[0].hash) == before + 3)
        #expect(policy.readMarks.reads(0) == 0)
        #expect(policy.links[0].region == .protected)
    }

    @Test func aProtectedEntrysCountStopsWhenFull() {
        var policy = filledPolicy(capacity: 10, marks: 11)
        defer { policy.readMarks.deallocate() }
        policy.touch(0)
        for _ in 0..<1_000 { #expect(policy.readMarks.readIfProtected(0)) }
        #expect((50...63).contains(policy.readMarks.reads(0)))
        #expect(policy.links[0].region == .protected)
    }
}
