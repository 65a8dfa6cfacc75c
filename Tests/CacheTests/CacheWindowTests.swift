@testable import Cache
import Foundation
import KeelTesting
import Testing

/// The admission window's adaptation (``CachePolicy/adaptWindow(after:weight:)``), driven by
/// deterministic traces through a one-shard cache, and the ghosts it learns from.
@Suite struct CacheWindowTests {
    /// A one-shard cache of `capacity` entries on a clock that never moves.
    func cache(capacity: Int) throws -> Cache<Int, Int, ManualClock> {
        var configuration = CacheConfiguration<Int, Int>(maximumCapacity: capacity, timeToLive: .seconds(3_600))
        configuration.shardCount = 1
        return try Cache(configuration: configuration, clock: ManualClock(), metricsFactory: nil)
    }

    /// The window's share of the one shard's capacity.
    func windowCapacity(_ cache: Cache<Int, Int, ManualClock>) -> Int {
        cache.segments[0].withExclusiveAccess { _, policy in policy.windowCapacity }
    }

    /// Reads every key of `keys`, inserting each miss; returns the hits. Yields its thread every
    /// 1,000 keys: a replay runs for seconds in a debug build, and on 2 cores two tests that never
    /// yield hold both cooperative threads, stalling every other test's task meanwhile.
    func replay(_ keys: some Sequence<Int>, through cache: Cache<Int, Int, ManualClock>) async -> Int {
        var hits = 0
        for (index, key) in keys.enumerated() {
            if cache.value(for: key) != nil { hits += 1 } else { cache.insert(key, for: key) }
            if index % 1_000 == 999 { await Task.yield() }
        }
        return hits
    }

    /// A working set of `capacity / 2` keys sliding by one key every 4 reads, each read a
    /// pseudo-random pick in it: what was read recently is read next.
    func slidingTrace(capacity: Int, reads: Int, firstKey: Int) -> [Int] {
        var state: UInt64 = 2_027
        return (0..<reads).map { read in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return firstKey + read / 4 + Int((state >> 33) % UInt64(capacity / 2))
        }
    }

    /// Reads over `keys` keys, key k about 1 / k as often as key 1: what was read often is read
    /// again.
    func skewedTrace(keys: Int, reads: Int, firstKey: Int) -> [Int] {
        var state: UInt64 = 2_026
        return (0..<reads).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // Key keys ^ u for a uniform u: density about 1 / k.
            let unit = Double(state >> 11) / Double(1 << 53)
            return firstKey + min(keys, Int(pow(Double(keys), unit)))
        }
    }

    @Test func aRecencyLoadGrowsTheWindowAndAFrequencyLoadShrinksItAgain() async throws {
        let capacity = 1_000
        let cache = try cache(capacity: capacity)
        #expect(windowCapacity(cache) == 10, "1 % to start with")

        // Each key is read about 4 times while in the working set of 500, then never again: a
        // fixed 1 % window loses most of them to the sketch, which keeps yesterday's keys.
        let sliding = slidingTrace(capacity: capacity, reads: 100 * capacity, firstKey: 0)
        let hits = await replay(sliding, through: cache)
        #expect(windowCapacity(cache) >= capacity / 2, "the window holds the working set")
        // An LRU of this capacity hits about 75 % of these reads; the last quarter is the steady state.
        let lateHits = await replay(slidingTrace(capacity: capacity, reads: 20 * capacity, firstKey: 100 * capacity), through: cache)
        #expect(Double(lateHits) / Double(20 * capacity) > 0.7, "hits \(hits), then \(lateHits)")

        // Then popularity lasts: the entries the main lists keep come back, and the window
        // gives their space back.
        let skewed = skewedTrace(keys: 20 * capacity, reads: 200 * capacity, firstKey: 1_000_000)
        _ = await replay(skewed, through: cache)
        #expect(windowCapacity(cache) <= capacity / 10, "window \(windowCapacity(cache))")
    }

    @Test func aLoopLongerThanTheCacheKeepsTheWindowSmall() async throws {
        let capacity = 1_000
        let cache = try cache(capacity: capacity)
        let length = capacity * 12 / 10
        let hits = await replay((0..<length * 30).map { $0 % length }, through: cache)
        // An LRU keeps nothing of this loop; a window grown toward an LRU would lose it all.
        #expect(windowCapacity(cache) <= capacity / 20, "window \(windowCapacity(cache))")
        // Every read is counted once by the sketch, so the newcomers never outcount the entries
        // kept (read once a pass each, as they are): most keys stay (72 % when the protected
        // entries' reads went uncounted; Caffeine 2.6.2 keeps about 75 %).
        #expect(Double(hits) / Double(length * 30) > 0.76, "hits \(hits)")
    }

    @Test func ghostsRememberTheNewestEvictionsAndForgetWhatIsTaken() {
        var ghosts = CacheGhosts(capacity: 4)
        for hash in [8, 16, 24] { ghosts.remember(hash, from: .window) }
        ghosts.remember(5, from: .main)
        #expect(ghosts.windowCount == 3 && ghosts.mainCount == 1)
        #expect(ghosts.take(16) == .window)
        #expect(ghosts.take(16) == nil, "taken once")
        #expect(ghosts.take(24) == .window)
        // Full: the next three take the oldest slots; 8 is forgotten, 16's and 24's were free.
        ghosts.remember(32, from: .main)
        ghosts.remember(40, from: .main)
        ghosts.remember(48, from: .window)
        #expect(ghosts.take(8) == nil)
        #expect(ghosts.take(5) == .main)
        #expect(ghosts.take(32) == .main && ghosts.take(40) == .main && ghosts.take(48) == .window)
        #expect(ghosts.windowCount == 0 && ghosts.mainCount == 0)
    }
}
