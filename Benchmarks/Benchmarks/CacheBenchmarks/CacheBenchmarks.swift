// Suite `cache`: throughput of Keel's Cache against a Mutex-guarded LRU (CacheBaselines.LRUCache),
// both pre-filled with 10,000 entries keyed by ~20-byte Strings, accessed with a Zipf (0.99)
// distribution over those keys.
//
// - reads-1task / reads-2tasks:               100% `value(for:)`.
// - mixed-75-25-1task / mixed-75-25-2tasks:   75% reads, 25% inserts of the same keys.
// Each sample runs 1,000 operations in total (tag opsPerSample); throughput is
// operations per second over all tasks; mallocs are per operation.

import Benchmark
import Cache
import CacheBaselines

let entryCount = 10_000
let keys: [String] = (0..<entryCount).map { "token-symbol-\(100_000 + $0)" }  // 18-19 bytes
/// A fixed Zipf (0.99) sequence of key positions, shared by every benchmark.
let accesses: [Int] = {
    let zipf = ZipfDistribution(count: entryCount, alpha: 0.99)
    var generator = SplitMix64(seed: 99)
    return (0..<65_536).map { _ in zipf.next(using: &generator) }
}()

func filledKeel() -> Cache<String, Int, ContinuousClock> {
    let cache = Cache<String, Int, ContinuousClock>(maximumCapacity: entryCount, timeToLive: .seconds(86_400))
    for (position, key) in keys.enumerated() { cache.insert(position, for: key) }
    return cache
}

func filledLRU() -> LRUCache<String, Int> {
    let cache = LRUCache<String, Int>(capacity: entryCount)
    for (position, key) in keys.enumerated() { cache.insert(position, for: key) }
    return cache
}

/// Runs `operation` `total` times over `tasks` tasks, each starting at its own place in `accesses`.
nonisolated func run(tasks: Int, total: Int, _ operation: @escaping @Sendable (Int, Int) -> Void) async {
    await withTaskGroup(of: Void.self) { group in
        for task in 0..<tasks {
            let share = total / tasks
            group.addTask {
                var cursor = task * 16_384
                for step in 0..<share {
                    operation(accesses[cursor & 65_535], step)
                    cursor &+= 1
                }
            }
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .mallocCountTotal],
        tags: ["opsPerSample": "1000"],  // read by bench_report.py
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 2_000
    )
    for tasks in [1, 2] {
        let suffix = tasks == 1 ? "1task" : "2tasks"
        Benchmark("reads-\(suffix)/keel", configuration: configuration) { benchmark in
            let cache = filledKeel()
            benchmark.startMeasurement()
            await run(tasks: tasks, total: benchmark.scaledIterations.count) { key, _ in blackHole(cache.value(for: keys[key])) }
            benchmark.stopMeasurement()
        }
        Benchmark("reads-\(suffix)/lru", configuration: configuration) { benchmark in
            let cache = filledLRU()
            benchmark.startMeasurement()
            await run(tasks: tasks, total: benchmark.scaledIterations.count) { key, _ in blackHole(cache.value(for: keys[key])) }
            benchmark.stopMeasurement()
        }
        Benchmark("mixed-75-25-\(suffix)/keel", configuration: configuration) { benchmark in
            let cache = filledKeel()
            benchmark.startMeasurement()
            await run(tasks: tasks, total: benchmark.scaledIterations.count) { key, step in
                if step & 3 == 3 { cache.insert(step, for: keys[key]) } else { blackHole(cache.value(for: keys[key])) }
            }
            benchmark.stopMeasurement()
        }
        Benchmark("mixed-75-25-\(suffix)/lru", configuration: configuration) { benchmark in
            let cache = filledLRU()
            benchmark.startMeasurement()
            await run(tasks: tasks, total: benchmark.scaledIterations.count) { key, step in
                if step & 3 == 3 { cache.insert(step, for: keys[key]) } else { blackHole(cache.value(for: keys[key])) }
            }
            benchmark.stopMeasurement()
        }
    }
}
