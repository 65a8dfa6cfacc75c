// Suite `cache`: throughput of Keel's Cache against Caffeine (run as a Java process, CaffeinePeer)
// and a Mutex-guarded LRU (CacheBaselines.LRUCache), each pre-filled with 10,000 entries keyed by
// ~20-byte Strings, accessed with a Zipf (0.99) distribution over those keys.
//
// - reads-1task / reads-2tasks:               100% `value(for:)`.
// - mixed-75-25-1task / mixed-75-25-2tasks:   75% reads, 25% inserts of the same keys.
// Each sample runs 100,000 operations in total (tag opsPerSample); throughput is
// operations per second over all tasks; mallocs are per operation. Caffeine runs the same loop over
// the same positions in its own JVM (warmed up for 3 s first): each of its samples asks it for
// 100,000 operations and records the rate it measured (metric "operations per second"). Each of
// those samples first runs the same operations on a Keel cache of its own and records that rate too
// ("keel operations per second, interleaved"): the two rounds are milliseconds apart, so both meet
// the same load on this shared machine, where separate benchmarks seconds apart did not. Each side
// runs its operations once unmeasured just before its measured round, so that the round finds its
// entries in the processor's caches as a round of the separate benchmarks does (the other side's
// round evicts them: 100,000 operations on cold caches took about twice as long). Each
// benchmark fills its cache once, in its setup, and its samples share it (as a server's requests
// share one cache).

import Benchmark
import Dispatch
import Foundation
import Synchronization
import Cache
import CacheBaselines
import KeelCore

let entryCount = 10_000
let keys: [String] = (0..<entryCount).map { "token-symbol-\(100_000 + $0)" }  // 18-19 bytes
/// Each worker's own copies of the keys (equal strings, separate storage), as each request of a
/// server builds its own key: every lookup compares the key's bytes with the cached key's, as it
/// would in a server.
let workerKeys: [WorkerKeys] = (0..<2).map { _ in WorkerKeys() }

/// One worker's keys, in an `InlineArray` held by a class's `let`: the loop passes each key to the
/// cache borrowed, as a server passes the key it holds, and retains nothing. Read from an `Array`
/// or a buffer pointer, Swift copies the key for the call (a retain and a release per operation,
/// 21 % of a hit's samples in a profile), which Caffeine's loop reading a `String[]` never pays.
final class WorkerKeys: Sendable {
    let keys: InlineArray<10_000, String>

    init() {
        precondition(InlineArray<10_000, String>.count == entryCount)
        keys = InlineArray { String(decoding: Array(CacheBenchmarks.keys[$0].utf8), as: UTF8.self) }
    }
}
/// A fixed Zipf (0.99) sequence of key positions, shared by every benchmark.
let accesses: [Int] = {
    let zipf = ZipfDistribution(count: entryCount, alpha: 0.99)
    var generator = SplitMix64(seed: 99)
    return (0..<65_536).map { _ in zipf.next(using: &generator) }
}()

func filledKeel() throws -> Cache<String, Int, ContinuousClock> {
    let cache = try Cache<String, Int, ContinuousClock>(maximumCapacity: entryCount, timeToLive: .seconds(86_400))
    for (position, key) in keys.enumerated() { cache.insert(position, for: key) }
    return cache
}

func filledLRU() -> LRUCache<String, Int> {
    let cache = LRUCache<String, Int>(capacity: entryCount)
    for (position, key) in keys.enumerated() { cache.insert(position, for: key) }
    return cache
}

/// What the benchmarks call on both caches.
protocol BenchmarkedCache: Sendable {
    func value(for key: String) -> Int?
    func insert(_ value: Int, for key: String)
}

extension LRUCache: BenchmarkedCache where Key == String, Value == Int {}

/// Keel's cache, with the arguments the protocol has.
struct KeelCache: BenchmarkedCache {
    let cache: Cache<String, Int, ContinuousClock>
    @inline(__always) func value(for key: String) -> Int? { cache.value(for: key) }
    @inline(__always) func insert(_ value: Int, for key: String) { cache.insert(value, for: key) }
}

/// `count` operations from `start` in `accesses`: every fourth an insert when `writes`.
@inline(__always)
func loop(_ cache: some BenchmarkedCache, keys: WorkerKeys, accesses: [Int], count: Int, start: Int, writes: Bool) {
    accesses.withUnsafeBufferPointer { accesses in
        var cursor = start
        for step in 0..<count {
            let position = accesses[cursor & 65_535]
            if writes && step & 3 == 3 { cache.insert(step, for: keys.keys[position]) } else { blackHole(cache.value(for: keys.keys[position])) }
            cursor &+= 1
        }
    }
}

/// Runs `total` operations over `workers` threads (1: on the benchmark's own thread).
///
/// Two threads, not two Swift tasks: package-benchmark waits for an async benchmark by blocking a
/// thread, which on this 2-core machine leaves one thread in Swift's cooperative pool, so two child
/// tasks ran one after the other (measured: every sample's children shared one thread).
/// `concurrentPerform` runs the second worker on a Dispatch thread outside that pool.
///
/// The workers take chunks of `chunkSize` operations in turn until `total` are done, as a server's
/// threads take requests, so a sample measures what both cores do together. Split in two fixed
/// halves, a sample lasted as long as the slower half: on this shared machine one thread's half
/// often took a third longer than the other's (measured per worker: 7.1-10.4 ms for the same
/// 50,000 reads), and the other core sat idle meanwhile.
func run(_ cache: some BenchmarkedCache, workers: Int, total: Int, writes: Bool) {
    let workerKeys = workerKeys
    let accesses = accesses
    if workers == 1 {
        loop(cache, keys: workerKeys[0], accesses: accesses, count: total, start: 0, writes: writes)
        return
    }
    let chunks = ChunkCounter()
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        while true {
            let start = chunks.next() * chunkSize
            guard start < total else { return }
            loop(cache, keys: workerKeys[worker], accesses: accesses, count: min(chunkSize, total - start), start: start, writes: writes)
        }
    }
}

/// Operations a worker takes at a time (a multiple of 4, so every chunk writes a quarter of the time
/// in the mixed workloads): about 0.2 ms of reads.
let chunkSize = 2_048

/// Hands out chunk numbers 0, 1, 2... to the workers of one sample.
final class ChunkCounter: Sendable {
    let taken = Atomic<Int>(0)

    /// The next chunk's number.
    func next() -> Int { taken.add(1, ordering: .relaxed).oldValue }
}

/// Caffeine, running one workload in its own process: each call of ``run(operations:)`` has it run
/// that many operations and returns the nanoseconds it took, by its own clock.
final class CaffeineWorkload: @unchecked Sendable {
    // @unchecked Sendable: used by one benchmark's samples, one after another.
    let process: Process
    let input: FileHandle
    let output: FileHandle
    var buffered: [UInt8] = []

    init(workers: Int, writes: Bool) throws {
        let path = try CaffeinePeer.writeFile(accesses.map { Int32($0) }, name: "accesses")
        defer { try? FileManager.default.removeItem(atPath: path) }
        (process, input, output) = try CaffeinePeer.start(["throughput", path, String(workers), writes ? "1" : "0"])
        // The peer has read the positions once it is ready.
        guard try readLine() == "ready" else { throw CaffeinePeer.PeerError("the Caffeine peer did not start") }
    }

    deinit {
        try? input.close()
        process.waitUntilExit()
    }

    func readLine() throws -> String {
        while true {
            if let end = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<end], as: UTF8.self)
                buffered.removeSubrange(...end)
                return line
            }
            let data = output.availableData
            guard !data.isEmpty else { throw CaffeinePeer.PeerError("the Caffeine peer exited") }
            buffered += data
        }
    }

    func run(operations: Int) throws -> Int {
        try input.write(contentsOf: Data("\(operations)\n".utf8))
        guard let nanoseconds = Int(try readLine()) else { throw CaffeinePeer.PeerError("the Caffeine peer answered nonsense") }
        return nanoseconds
    }
}

let operationsPerSecond = BenchmarkMetric.custom("operations per second", polarity: .prefersLarger, useScalingFactor: false)
/// Keel's rate in the Caffeine benchmark's samples, each of which runs Keel's round just before
/// Caffeine's, so that both meet the same load on this shared machine.
let interleavedKeelOperationsPerSecond = BenchmarkMetric.custom(
    "keel operations per second, interleaved", polarity: .prefersLarger, useScalingFactor: false)

/// Operations per second for `operations` done in `nanoseconds`.
func rate(_ operations: Int, in nanoseconds: Int) -> Int {
    Int((Double(operations) * 1e9 / Double(max(nanoseconds, 1))).rounded())
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .mallocCountTotal],
        tags: ["opsPerSample": "100000"],  // read by bench_report.py: 100 × the scaled 1,000
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 2_000
    )
    for tasks in [1, 2] {
        let suffix = tasks == 1 ? "1task" : "2tasks"
        for (workload, writes) in [("reads", false), ("mixed-75-25", true)] {
            Benchmark("\(workload)-\(suffix)/keel", configuration: configuration) { benchmark, cache in
                run(cache, workers: tasks, total: benchmark.scaledIterations.count * 100, writes: writes)
            } setup: {
                KeelCache(cache: try filledKeel())
            }
            if CaffeinePeer.classPath != nil {
                var peer = configuration
                peer.metrics = [.throughput, operationsPerSecond, interleavedKeelOperationsPerSecond]
                Benchmark("\(workload)-\(suffix)/caffeine", configuration: peer) { benchmark, fixture in
                    let operations = benchmark.scaledIterations.count * 100
                    // Each side's measured round follows an unmeasured one of the same operations,
                    // which brings its entries back into the processor's caches after the other's
                    // round: measured straight after the other's, a round ran on cold caches.
                    run(fixture.keel, workers: tasks, total: operations, writes: writes)
                    let start = ContinuousClock.now
                    run(fixture.keel, workers: tasks, total: operations, writes: writes)
                    let keelNanoseconds = Int((ContinuousClock.now - start).inNanoseconds)
                    _ = try fixture.caffeine.run(operations: operations)
                    let nanoseconds = try fixture.caffeine.run(operations: operations)
                    benchmark.measurement(interleavedKeelOperationsPerSecond, rate(operations, in: keelNanoseconds))
                    benchmark.measurement(operationsPerSecond, rate(operations, in: nanoseconds))
                } setup: {
                    (keel: KeelCache(cache: try filledKeel()), caffeine: try CaffeineWorkload(workers: tasks, writes: writes))
                }
            }
            Benchmark("\(workload)-\(suffix)/lru", configuration: configuration) { benchmark, cache in
                run(cache, workers: tasks, total: benchmark.scaledIterations.count * 100, writes: writes)
            } setup: {
                filledLRU()
            }
        }
    }
}
