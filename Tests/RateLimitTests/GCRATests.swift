import KeelCore
import KeelTesting
import RateLimit
import Testing

@Suite struct GCRATests {
    let gcra = GCRA(rate: 10, per: .seconds(1), burst: 3)  // one per 100 ms, 3 at once

    @Test func afterALongIdleAtMostTheBurstPasses() {
        var tat: Duration? = .seconds(5)
        let now = Duration.seconds(3600)
        var allowed = 0
        for _ in 0..<10 {
            let decision = gcra.evaluate(theoreticalArrival: tat, now: now)
            if decision.allowed {
                allowed += 1
                tat = decision.theoreticalArrival
            }
        }
        #expect(allowed == 3)
        let denied = gcra.evaluate(theoreticalArrival: tat, now: now)
        #expect(!denied.allowed && denied.retryAfter == .milliseconds(100))
    }

    @Test func steadyStateGrantsExactlyTheRateWithNoDrift() {
        var tat: Duration?
        var now = Duration.zero
        var allowed = 0
        // Ten seconds of requests every 10 ms: 10/s pass, plus the initial burst.
        for _ in 0..<1000 {
            let decision = gcra.evaluate(theoreticalArrival: tat, now: now)
            if decision.allowed {
                allowed += 1
                tat = decision.theoreticalArrival
            }
            now += .milliseconds(10)
        }
        #expect(allowed == 100 + 2, "100 in 10 s at 10/s, plus a burst of 3 where the first counts in the rate")
    }

    @Test func costTakesSeveralUnits() {
        let decision = gcra.evaluate(theoreticalArrival: nil, now: .zero, cost: 3)
        #expect(decision.allowed)
        #expect(!gcra.evaluate(theoreticalArrival: decision.theoreticalArrival, now: .zero, cost: 1).allowed)
        #expect(!gcra.evaluate(theoreticalArrival: nil, now: .zero, cost: 4).allowed, "more than the burst never passes")
    }

    @Test func tokenBucketWaitsOnTheClockAndTakesNewRates() async throws {
        let clock = ManualClock()
        let bucket = TokenBucket(rate: 2, per: .seconds(1), burst: 2, clock: clock)
        #expect(bucket.tryAcquire() == nil && bucket.tryAcquire() == nil)
        #expect(bucket.tryAcquire() == .milliseconds(500))
        let waiter = Task { try await bucket.acquire() }
        #expect(await eventually { clock.sleeperCount == 1 })
        clock.advance(by: .milliseconds(500))
        try await waiter.value
        bucket.setRate(100, per: .seconds(1), burst: 1)
        clock.advance(by: .seconds(1))
        #expect(bucket.tryAcquire() == nil)
        #expect(bucket.tryAcquire() == .milliseconds(10))
    }
}

@Suite struct ConcurrentMapTests {
    @Test func resultsKeepInputOrderWithinTheConcurrencyCap() async throws {
        let running = Locked((now: 0, peak: 0))
        let results = try await Array(0..<200).concurrentMap(maxConcurrency: 7) { value in
            running.withLock { state in
                state.now += 1
                state.peak = max(state.peak, state.now)
            }
            for _ in 0..<(value % 5) { await Task.yield() }
            running.withLock { $0.now -= 1 }
            return value * 2
        }
        #expect(results == (0..<200).map { $0 * 2 })
        #expect(running.withLock { $0.peak } <= 7)
    }

    @Test func theFirstErrorCancelsTheRest() async throws {
        struct Boom: Error {}
        let cancelled = Locked(0)
        let started = Locked(0)
        await #expect(throws: Boom.self) {
            try await Array(0..<100).concurrentMap(maxConcurrency: 4) { value in
                started.withLock { $0 += 1 }
                if value == 2 { throw Boom() }
                do {
                    try await ManualClock().sleep(for: .seconds(1))  // waits until cancelled
                } catch {
                    cancelled.withLock { $0 += 1 }
                    throw error
                }
                return value
            }
        }
        #expect(cancelled.withLock { $0 } >= 1)
        #expect(started.withLock { $0 } < 100, "no new work after the failure")
    }

    @Test func collectedResultsKeepEveryOutcome() async throws {
        struct Odd: Error {}
        let results = try await Array(0..<10).concurrentMapResults(maxConcurrency: 3) { value in
            if value % 2 == 1 { throw Odd() }
            return value
        }
        #expect(results.count == 10)
        #expect(results.compactMap { try? $0.get() } == [0, 2, 4, 6, 8])
    }

    @Test func cancellingTheCallerCancelsTheChildren() async throws {
        let cancelled = Locked(0)
        let task = Task {
            try await Array(0..<10).concurrentMap(maxConcurrency: 3) { value in
                do {
                    try await ManualClock().sleep(for: .seconds(1))
                } catch {
                    cancelled.withLock { $0 += 1 }
                    throw error
                }
                return value
            }
        }
        #expect(await eventually { true })
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test func cancellingTheCallerOfCollectedResultsThrowsInsteadOfReturningAPartialList() async throws {
        let task = Task {
            try await Array(0..<10).concurrentMapResults(maxConcurrency: 3) { value in
                try await ManualClock().sleep(for: .seconds(1))  // waits until cancelled
                return value
            }
        }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test func aLimiterGatesEachElement() async throws {
        let limiter = RateLimiter(maxConcurrent: 2, clock: ManualClock())
        let results = try await Array(0..<20).concurrentMap(maxConcurrency: 8, limiter: limiter) { $0 + 1 }
        #expect(results == Array(1...20))
        #expect(limiter.statistics.acquired == 20)
        #expect(limiter.statistics.inFlight == 0)
    }
}
