import KeelCore
import KeelTesting
import RateLimit
import Testing

/// Waits, yielding (never sleeping), until `condition` holds; `false` after `maxYields`.
func eventually(maxYields: Int = 200_000, _ condition: () -> Bool) async -> Bool {
    for _ in 0..<maxYields {
        if condition() { return true }
        await Task.yield()
    }
    return condition()
}

@Suite struct RateLimiterTests {
    @Test func waitersAreServedFirstInFirstOut() async throws {
        let limiter = RateLimiter(maxConcurrent: 1, clock: ManualClock())
        try await limiter.acquire()
        let order = Locked<[Int]>([])
        var tasks: [Task<Void, any Error>] = []
        for index in 0..<5 {
            tasks.append(Task { try await limiter.withPermit { order.withLock { $0.append(index) } } })
            #expect(await eventually { limiter.statistics.queued == index + 1 })
        }
        limiter.release()
        for task in tasks { try await task.value }
        #expect(order.withLock { $0 } == [0, 1, 2, 3, 4])
        let statistics = limiter.statistics
        #expect(statistics.acquired == 6 && statistics.waited == 5 && statistics.inFlight == 0)
    }

    @Test func startsAreSpacedExactlyByTheIntervalAndConcurrencyIsCapped() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(maxConcurrent: 3, minInterval: .seconds(2), clock: clock)
        let starts = Locked<[Duration]>([])
        let running = Locked((now: 0, peak: 0))
        let gate = Locked(0)  // bodies finish once the clock has passed their start + 5 s
        let tasks = (0..<9).map { _ in
            Task {
                try await limiter.withPermit {
                    let started = clock.now.offset
                    starts.withLock { $0.append(started) }
                    running.withLock { state in
                        state.now += 1
                        state.peak = max(state.peak, state.now)
                    }
                    try await clock.sleep(until: .init(offset: started + .seconds(5)))
                    running.withLock { $0.now -= 1 }
                    gate.withLock { $0 += 1 }
                }
            }
        }
        for _ in 0..<40 {
            for _ in 0..<200 { await Task.yield() }
            clock.advance(by: .seconds(1))
        }
        for task in tasks { try await task.value }
        let sorted = starts.withLock { $0 }.sorted()
        #expect(sorted.count == 9)
        #expect(zip(sorted, sorted.dropFirst()).allSatisfy { $1 - $0 >= .seconds(2) }, "\(sorted)")
        #expect(sorted.first == .zero)
        #expect(running.withLock { $0.peak } == 3)
        #expect(limiter.statistics.inFlight == 0)
    }

    @Test func anAcquireTimesOutAndKeepsNoPermit() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(maxConcurrent: 1, clock: clock)
        try await limiter.acquire()
        let waiter = Task { try await limiter.acquire(timeout: .seconds(5)) }
        #expect(await eventually { limiter.statistics.queued == 1 && clock.sleeperCount == 1 })
        clock.advance(by: .seconds(5))
        await #expect(throws: RateLimitTimeoutError.self) { try await waiter.value }
        #expect(limiter.statistics.queued == 0)
        #expect(limiter.statistics.timeouts == 1)
        limiter.release()
        #expect(limiter.statistics.inFlight == 0)
        #expect(limiter.tryAcquire())
    }

    @Test func aTimeoutShorterThanTheSpacingFailsAtOnce() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(maxConcurrent: 5, minInterval: .seconds(2), clock: clock)
        try await limiter.acquire()
        await #expect(throws: RateLimitTimeoutError(timeout: .seconds(1))) { try await limiter.acquire(timeout: .seconds(1)) }
        #expect(limiter.statistics.timeouts == 1 && limiter.statistics.inFlight == 1 && clock.sleeperCount == 0)
        let inTime = Task { try await limiter.acquire(timeout: .seconds(3)) }  // granted the start at 2 s
        #expect(await eventually { clock.sleeperCount == 1 })
        clock.advance(by: .seconds(2))
        try await inTime.value
        #expect(limiter.statistics.inFlight == 2 && limiter.statistics.timeouts == 1)
    }

    @Test func aCancelledWaiterLeavesTheQueueAtOnce() async throws {
        let limiter = RateLimiter(maxConcurrent: 1, clock: ManualClock())
        try await limiter.acquire()
        let waiter = Task { try await limiter.withPermit {} }
        #expect(await eventually { limiter.statistics.queued == 1 })
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(limiter.statistics.queued == 0)
        #expect(limiter.statistics.cancellations == 1)
        limiter.release()
        #expect(limiter.statistics.inFlight == 0)
    }

    @Test func cancellationRacingAGrantNeverLeaksAPermit() async throws {
        let limiter = RateLimiter(maxConcurrent: 2, clock: ManualClock())
        for _ in 0..<500 {
            try await limiter.acquire()
            try await limiter.acquire()
            let waiter = Task { try await limiter.withPermit {} }
            #expect(await eventually { limiter.statistics.queued == 1 })
            async let cancel: Void = waiter.cancel()
            limiter.release()
            await cancel
            _ = try? await waiter.value
            limiter.release()
            #expect(limiter.statistics.inFlight == 0)
            #expect(limiter.statistics.queued == 0)
        }
        #expect(limiter.tryAcquire() && limiter.tryAcquire() && !limiter.tryAcquire(), "both permits are free")
    }

    @Test func tryAcquireRespectsTheInterval() {
        let clock = ManualClock()
        let limiter = RateLimiter(maxConcurrent: 5, minInterval: .milliseconds(100), clock: clock)
        #expect(limiter.tryAcquire())
        #expect(!limiter.tryAcquire(), "the next start is 100 ms away")
        clock.advance(by: .milliseconds(100))
        #expect(limiter.tryAcquire())
    }

    @Test func presetsCarryTheReferenceNumbers() {
        #expect(RateLimiter.coinGecko().maxConcurrent == 5 && RateLimiter.coinGecko().minInterval == .seconds(2))
        #expect(RateLimiter.okx().maxConcurrent == 3 && RateLimiter.okx().minInterval == .milliseconds(100))
        #expect(RateLimiter.evmRPC().maxConcurrent == 5 && RateLimiter.evmRPC().minInterval == .milliseconds(50))
    }

    /// The real clock, as the issue asks: 10,000 tasks through 5 at once, 5 ms apart (about 50 s).
    /// The limiter checks every actual start against the previous one under its lock and records
    /// the smallest gap; that is the measured bound.
    @Test func tenThousandTasksOnTheRealClockNeverBreakEitherBound() async throws {
        let clock = ContinuousClock()
        let limiter = RateLimiter(maxConcurrent: 5, minInterval: .milliseconds(5), clock: clock)
        let origin = clock.now
        let starts = Locked<[Duration]>([])
        let running = Locked((now: 0, peak: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<10_000 {
                group.addTask {
                    try await limiter.withPermit {
                        let started = origin.duration(to: clock.now)
                        running.withLock { state in
                            state.now += 1
                            state.peak = max(state.peak, state.now)
                        }
                        starts.withLock { $0.append(started) }
                        await Task.yield()
                        running.withLock { $0.now -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        let sorted = starts.withLock { $0 }.sorted()
        let gaps = zip(sorted, sorted.dropFirst()).map { $1 - $0 }
        // Starts are scheduled ≥ 5 ms apart and a sleep never ends early; only a late wake-up of
        // one task next to an on-time one can shorten a measured gap, so allow 1 ms of jitter.
        let violations = gaps.filter { $0 < .milliseconds(4) }.count
        let elapsed = sorted.last! - sorted.first!
        let limiterGap = try #require(limiter.statistics.minStartGap)
        print(
            "rate-limit stress: 10000 starts in \(elapsed), peak concurrency \(running.withLock { $0.peak }), "
                + "smallest gap between starts \(limiterGap) (limiter), \(gaps.min()!) (as seen by the bodies), "
                + "body-seen gaps under 4 ms: \(violations)")
        #expect(sorted.count == 10_000)
        #expect(running.withLock { $0.peak } <= 5)
        #expect(limiterGap >= .milliseconds(5), "no two starts closer than the interval")
        // The bodies read the clock a moment after the limiter lets them start; a thread preempted
        // in between (2 loaded cores, or ThreadSanitizer) shifts that reading. The enforced bound is
        // the limiter's own record above; the body-side readings are reported and kept under 1 %.
        #expect(violations <= 100)
        #expect(elapsed >= .milliseconds(5 * 9_999), "never faster than the interval allows on average")
    }
}
