// Suite `breaker`: what a circuit breaker costs a call.
//
// - closed-run:          `breaker.run { }` on a closed breaker (default configuration: 5 failures in
//                        a row, no timing) against calling the same closure directly (`direct`);
//                        the difference is the breaker's overhead.
// - closed-run-2tasks:   the same from 2 concurrent tasks sharing one breaker.
// - count-window:        `run` on a breaker that also keeps a failure rate over the last 100 calls.
// - open-run:            `run` on an open breaker: the rejection, thrown as `any Error` and caught.
// - open-permit:         `permit()` on an open breaker (typed throws: nothing boxed).
//
// Each sample runs 1,000 operations (tag opsPerSample); scripts/bench_report.py turns throughput
// into ns per operation and prints the overhead (keel minus direct) as breaker/closed-overhead.

import Benchmark
import CircuitBreaker

/// Calls `body` the way `run` would be called, with nothing around it (specialised and inlined,
/// as `run` is).
nonisolated func direct<Result>(_ body: () async throws -> Result) async throws -> Result {
    try await body()
}

nonisolated func closedLoop(_ breaker: CircuitBreaker<ContinuousClock>, count: Int) async throws {
    for _ in 0..<count {
        try await breaker.run { blackHole(breaker) }
    }
}

nonisolated func directLoop(_ breaker: CircuitBreaker<ContinuousClock>, count: Int) async throws {
    for _ in 0..<count {
        try await direct { blackHole(breaker) }
    }
}

/// Runs `loop` over 2 tasks, each with half of the iterations.
nonisolated func twoTasks(
    _ breaker: CircuitBreaker<ContinuousClock>, count: Int,
    _ loop: @escaping @Sendable (CircuitBreaker<ContinuousClock>, Int) async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await loop(breaker, count / 2) }
        group.addTask { try await loop(breaker, count - count / 2) }
        try await group.waitForAll()
    }
}

func openBreaker() throws -> CircuitBreaker<ContinuousClock> {
    let breaker = try CircuitBreaker()
    breaker.forceOpen()
    return breaker
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

    Benchmark("closed-run/keel", configuration: configuration) { benchmark in
        let breaker = try CircuitBreaker()
        benchmark.startMeasurement()
        try await closedLoop(breaker, count: benchmark.scaledIterations.count)
        benchmark.stopMeasurement()
    }
    Benchmark("closed-run/direct", configuration: configuration) { benchmark in
        let breaker = try CircuitBreaker()
        benchmark.startMeasurement()
        try await directLoop(breaker, count: benchmark.scaledIterations.count)
        benchmark.stopMeasurement()
    }
    Benchmark("closed-run-2tasks/keel", configuration: configuration) { benchmark in
        let breaker = try CircuitBreaker()
        benchmark.startMeasurement()
        try await twoTasks(breaker, count: benchmark.scaledIterations.count, closedLoop)
        benchmark.stopMeasurement()
    }
    Benchmark("closed-run-2tasks/direct", configuration: configuration) { benchmark in
        let breaker = try CircuitBreaker()
        benchmark.startMeasurement()
        try await twoTasks(breaker, count: benchmark.scaledIterations.count, directLoop)
        benchmark.stopMeasurement()
    }
    Benchmark("count-window/keel", configuration: configuration) { benchmark in
        var windowed = CircuitBreakerConfiguration()
        windowed.failureRateThreshold = 0.5
        windowed.window = .count(100)
        let breaker = try CircuitBreaker(configuration: windowed)
        benchmark.startMeasurement()
        try await closedLoop(breaker, count: benchmark.scaledIterations.count)
        benchmark.stopMeasurement()
    }
    Benchmark("open-run/keel", configuration: configuration) { benchmark in
        let breaker = try openBreaker()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            do {
                try await breaker.run { blackHole(breaker) }
            } catch {
                blackHole(error)
            }
        }
        benchmark.stopMeasurement()
    }
    Benchmark("open-permit/keel", configuration: configuration) { benchmark in
        let breaker = try openBreaker()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            do throws(CircuitBreakerError) {
                try breaker.permit().success()
            } catch {
                blackHole(error)
            }
        }
        benchmark.stopMeasurement()
    }
}
