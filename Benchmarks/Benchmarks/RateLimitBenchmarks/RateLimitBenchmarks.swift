// Suite `ratelimit`: the cost of a permit when nothing waits, against the cheapest thing that
// could guard a counter (a Mutex around an integer: lock, check, increment, unlock, twice per
// operation, like a permit's acquire and release), plus the GCRA check and a contended limiter.
//
// Each sample runs 1,000 operations (tag opsPerSample); scripts/bench_report.py turns the
// throughput into ns per operation for the `figure:` lines.

import Benchmark
import RateLimit
import Synchronization

/// The baseline: a permit count behind a `Mutex`, with no queue, no spacing, no cancellation.
final class MutexCounter: Sendable {
    let permits = Mutex(4)

    func acquire() -> Bool {
        permits.withLock { count in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
    }

    func release() { permits.withLock { $0 += 1 } }
}

/// The loops run in a nonisolated function, so no actor isolation of the benchmark harness
/// leaks into the measured calls.
nonisolated func permitLoop(_ limiter: RateLimiter<ContinuousClock>, _ benchmark: Benchmark) async throws {
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        try await limiter.withPermit { blackHole(limiter) }
    }
    benchmark.stopMeasurement()
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .mallocCountTotal],
        tags: ["opsPerSample": "1000"],
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 2_000
    )

    Benchmark("uncontended-withpermit/keel", configuration: configuration) { benchmark in
        try await permitLoop(RateLimiter(maxConcurrent: 4), benchmark)
    }

    Benchmark("uncontended-withpermit/mutex-counter", configuration: configuration) { benchmark in
        let counter = MutexCounter()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            if counter.acquire() {
                blackHole(benchmark)
                counter.release()
            }
        }
        benchmark.stopMeasurement()
    }

    Benchmark("gcra-check/keel", configuration: configuration) { benchmark in
        let bucket = TokenBucket(rate: 1_000_000_000, per: .seconds(1), burst: 1_000_000)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(bucket.tryAcquire())
        }
        benchmark.stopMeasurement()
    }

    Benchmark("contended-64x4/keel", configuration: configuration) { benchmark in
        let limiter = RateLimiter(maxConcurrent: 4)
        let total = benchmark.scaledIterations.count
        benchmark.startMeasurement()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<64 {
                let share = total / 64 + (task < total % 64 ? 1 : 0)
                group.addTask { for _ in 0..<share { try await limiter.withPermit { await Task.yield() } } }
            }
            try await group.waitForAll()
        }
        benchmark.stopMeasurement()
    }
}
