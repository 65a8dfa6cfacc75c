// The `cache` suite's hit-ratio harness: replays key traces through Keel's Cache, an LRU of the same
// capacity (LRUCache) and Caffeine (CaffeinePeer, when scripts/bench.sh built it), and prints
// scripts/bench_report.py-style lines per trace and capacity (1,000, 10,000 and 100,000):
//   compare: cache/hit-ratio-<trace>-<capacity>-vs-caffeine keel=<%> caffeine=<%> ratio=<keel/caffeine> unit=%
//   compare: cache/hit-ratio-<trace>-<capacity>-vs-lru keel=<%> lru=<%> ratio=<keel/lru> unit=%
//   figure: cache/hit-ratio-behind-best/<trace>-<capacity> value=<points Keel is behind the better of LRU and Caffeine> unit=points
// Traces (the same keys, in the same order, for every cache):
// - zipf: frequency-biased. Scrambled Zipf (alpha 0.9) over 1,000,000 keys, 5,000,000 requests.
// - loop: a looping scan over 1.2 × capacity keys (LRU keeps nothing), 50 passes.
// - sliding: recency-biased. A working set of capacity / 2 keys that slides by one key every 4
//   requests, each request a uniform pick in it: a key is read about 4 times while it is in the
//   set, then never again, so what was read recently is what will be read (LRU's ground), and
//   what was read often is gone. 100 × capacity requests.
// A request is a read; a miss inserts the key.

import Cache
import Foundation
import CacheBaselines
import KeelCore

let capacities = [1_000, 10_000, 100_000]

struct Trace {
    let name: String
    /// The trace for a capacity.
    let keys: (Int) -> [Int]
    /// Whether the same trace serves every capacity (then it is made, written and replayed by
    /// Caffeine once).
    let sameForEveryCapacity: Bool
}

func zipfTrace() -> [Int] {
    let zipf = ZipfDistribution(count: 1_000_000, alpha: 0.9)
    var generator = SplitMix64(seed: 2026)
    return (0..<5_000_000).map { _ in scrambled(zipf.next(using: &generator)) }
}

func loopTrace(capacity: Int) -> [Int] {
    let length = capacity * 12 / 10
    return (0..<length * 50).map { $0 % length }
}

func slidingTrace(capacity: Int) -> [Int] {
    let workingSet = capacity / 2
    var generator = SplitMix64(seed: 2027)
    return (0..<capacity * 100).map { request in
        scrambled(request / 4 + Int(generator.next() % UInt64(workingSet)))
    }
}

/// The hits of Keel's cache and of the LRU replaying `keys` at `capacity`.
func replay(_ keys: [Int], capacity: Int) throws -> (keel: Int, lru: Int) {
    let keel = try Cache<Int, Int, ContinuousClock>(maximumCapacity: capacity, timeToLive: .seconds(86_400))
    let lru = LRUCache<Int, Int>(capacity: capacity)
    var keelHits = 0
    var lruHits = 0
    for key in keys {
        if keel.value(for: key) != nil { keelHits += 1 } else { keel.insert(key, for: key) }
        if lru.value(for: key) != nil { lruHits += 1 } else { lru.insert(key, for: key) }
    }
    return (keelHits, lruHits)
}

func format2(_ value: Double) -> String {
    guard value.isFinite else { return "inf" }
    let hundredths = Int((value * 100).rounded())
    let fraction = abs(hundredths % 100)
    return "\(hundredths < 0 && hundredths > -100 ? "-" : "")\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

func ratio(_ value: Double, _ peer: Double) -> String {
    peer == 0 ? "inf" : format2(value / peer)
}

let traces = [
    Trace(name: "zipf", keys: { _ in zipfTrace() }, sameForEveryCapacity: true),
    Trace(name: "loop", keys: loopTrace(capacity:), sameForEveryCapacity: false),
    Trace(name: "sliding", keys: slidingTrace(capacity:), sameForEveryCapacity: false),
]
if CaffeinePeer.classPath == nil {
    print("CacheHitRatio: KEEL_CAFFEINE_CLASSPATH is not set; Caffeine is left out (scripts/bench.sh cache sets it)")
}
/// Caffeine's hits replaying `keys` at each of `capacities`, or `nil` without the peer.
func caffeineHits(_ keys: [Int], capacities: [Int]) throws -> [Int: Int]? {
    guard CaffeinePeer.classPath != nil else { return nil }
    let path = try CaffeinePeer.writeFile(keys.map { Int64($0) }, name: "trace")
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try CaffeinePeer.replay(tracePath: path, capacities: capacities)
}

/// Prints the lines of `trace` at `capacity`.
func report(_ trace: String, capacity: Int, keys: [Int], caffeineHits: Int?) throws {
    let requests = Double(keys.count)
    let (keelHits, lruHits) = try replay(keys, capacity: capacity)
    let keel = 100 * Double(keelHits) / requests
    let lru = 100 * Double(lruHits) / requests
    let label = "cache/hit-ratio-\(trace)-\(capacity)"
    var best = lru
    if let caffeineHits {
        let caffeine = 100 * Double(caffeineHits) / requests
        best = max(best, caffeine)
        print("compare: \(label)-vs-caffeine keel=\(format2(keel)) caffeine=\(format2(caffeine)) ratio=\(ratio(keel, caffeine)) unit=%")
    }
    print("compare: \(label)-vs-lru keel=\(format2(keel)) lru=\(format2(lru)) ratio=\(ratio(keel, lru)) unit=%")
    print("figure: cache/hit-ratio-behind-best/\(trace)-\(capacity) value=\(format2(best - keel)) unit=points")
}

for trace in traces {
    if trace.sameForEveryCapacity {
        let keys = trace.keys(0)
        let caffeine = try caffeineHits(keys, capacities: capacities)
        for capacity in capacities { try report(trace.name, capacity: capacity, keys: keys, caffeineHits: caffeine?[capacity]) }
    } else {
        for capacity in capacities {
            let keys = trace.keys(capacity)
            try report(trace.name, capacity: capacity, keys: keys, caffeineHits: try caffeineHits(keys, capacities: [capacity])?[capacity])
        }
    }
}
