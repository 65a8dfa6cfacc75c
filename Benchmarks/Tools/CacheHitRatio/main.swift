// The `cache` suite's hit-ratio harness: replays key traces through Keel's Cache and through an
// LRU of the same capacity (LRUCache), and prints scripts/bench_report.py-style lines:
//   figure: cache/hit-ratio-<trace> value=<percent> unit=%
//   compare: cache/hit-ratio-<trace> keel=<percent> lru=<percent> ratio=<keel/lru> unit=%
// Traces:
// - zipf: scrambled Zipf (alpha 0.9) over 1,000,000 keys, 10,000,000 requests, capacity 10,000.
// - loop: a looping scan over 12,000 keys (a recency-hostile trace), 1,200,000 requests, capacity 10,000.
// A request is a read; a miss inserts the key. The trace is the same for both caches (seeded).

import Cache
import CacheBaselines
import KeelCore

let capacity = 10_000

func replay(_ name: String, requests: Int, next: (inout SplitMix64) -> Int) throws {
    let keel = try Cache<Int, Int, ContinuousClock>(maximumCapacity: capacity, timeToLive: .seconds(86_400))
    let lru = LRUCache<Int, Int>(capacity: capacity)
    var generator = SplitMix64(seed: 2026)
    var keelHits = 0
    var lruHits = 0
    for _ in 0..<requests {
        let key = next(&generator)
        if keel.value(for: key) != nil { keelHits += 1 } else { keel.insert(key, for: key) }
        if lru.value(for: key) != nil { lruHits += 1 } else { lru.insert(key, for: key) }
    }
    let keelPercent = 100 * Double(keelHits) / Double(requests)
    let lruPercent = 100 * Double(lruHits) / Double(requests)
    let ratio = lruHits == 0 ? Double.infinity : Double(keelHits) / Double(lruHits)
    print("figure: cache/hit-ratio-\(name) value=\(String(format2(keelPercent))) unit=%")
    print("figure: cache/hit-ratio-\(name)/lru value=\(String(format2(lruPercent))) unit=%")
    print("compare: cache/hit-ratio-\(name) keel=\(format2(keelPercent)) lru=\(format2(lruPercent)) ratio=\(format2(ratio)) unit=%")
}

func format2(_ value: Double) -> String {
    guard value.isFinite else { return "inf" }
    let hundredths = Int((value * 100).rounded())
    let fraction = abs(hundredths % 100)
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

let zipf = ZipfDistribution(count: 1_000_000, alpha: 0.9)
try replay("zipf", requests: 10_000_000) { scrambled(zipf.next(using: &$0)) }
var position = 0
try replay("loop", requests: 1_200_000) { _ in
    position += 1
    return position % 12_000
}
