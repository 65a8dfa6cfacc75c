import KeelTesting
import MetricsTestKit
import RateLimit
import Testing

/// The statistics as swift-metrics sees them: published on demand or periodically, never on the
/// acquire path.
@Suite struct RateLimiterMetricsTests {
    @Test func publishingSendsGaugesAndCounterDeltasWithTheLimiterDimension() async throws {
        let metrics = TestMetrics()
        let clock = ManualClock()
        let limiter = RateLimiter(
            maxConcurrent: 1, minInterval: .seconds(1), clock: clock, name: "okx", metricsFactory: metrics)
        let dimensions = [("limiter", "okx")]

        try await limiter.acquire()
        let waiter = Task { try await limiter.acquire() }
        #expect(await eventually { limiter.statistics.queued == 1 })
        #expect(
            metrics.counters.allSatisfy { $0.totalValue == 0 } && metrics.recorders.allSatisfy { $0.values.isEmpty },
            "nothing is sent before a publication")

        limiter.publishMetrics()
        #expect(try metrics.expectGauge("keel_ratelimit_in_flight", dimensions).lastValue == 1)
        #expect(try metrics.expectGauge("keel_ratelimit_queued", dimensions).lastValue == 1)
        #expect(metrics.counterTotal(label: "keel_ratelimit_acquired_total", dimensions: dimensions) == 1)

        clock.advance(by: .seconds(3))
        limiter.release()
        try await waiter.value
        limiter.release()
        clock.advance(by: .seconds(1))
        try await limiter.withPermit {}  // a third permit, granted at once

        limiter.publishMetrics()
        limiter.publishMetrics()  // a second publication adds nothing to the counters
        #expect(try metrics.expectGauge("keel_ratelimit_in_flight", dimensions).lastValue == 0)
        #expect(try metrics.expectGauge("keel_ratelimit_queued", dimensions).lastValue == 0)
        #expect(metrics.counterTotal(label: "keel_ratelimit_acquired_total", dimensions: dimensions) == 3)
        #expect(metrics.counterTotal(label: "keel_ratelimit_waited_total", dimensions: dimensions) == 1)
        let maxWait = try metrics.expectGauge("keel_ratelimit_max_wait_seconds", dimensions).lastValue
        #expect(maxWait == 3, "the queued acquire waited the 3 s the clock was advanced")
        #expect(try metrics.expectGauge("keel_ratelimit_min_start_gap_seconds", dimensions).lastValue! >= 1)
    }

    @Test func timeoutsAndCancellationsAreCounted() async throws {
        let metrics = TestMetrics()
        let clock = ManualClock()
        let limiter = RateLimiter(maxConcurrent: 1, clock: clock, name: "rpc", metricsFactory: metrics)
        try await limiter.acquire()
        let timedOut = Task { try await limiter.acquire(timeout: .seconds(2)) }
        let cancelled = Task { try await limiter.acquire() }
        #expect(await eventually { limiter.statistics.queued == 2 && clock.sleeperCount == 1 })
        clock.advance(by: .seconds(2))
        await #expect(throws: RateLimitTimeoutError.self) { try await timedOut.value }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        limiter.publishMetrics()
        let dimensions = [("limiter", "rpc")]
        #expect(metrics.counterTotal(label: "keel_ratelimit_timeouts_total", dimensions: dimensions) == 1)
        #expect(metrics.counterTotal(label: "keel_ratelimit_cancellations_total", dimensions: dimensions) >= 1)
        #expect(try metrics.expectGauge("keel_ratelimit_queued", dimensions).lastValue == 0)
    }

    @Test func reportingPublishesEveryIntervalUntilCancelled() async throws {
        let metrics = TestMetrics()
        let clock = ManualClock()
        let limiter = RateLimiter(maxConcurrent: 2, clock: clock, name: "feed", metricsFactory: metrics)
        let reporter = Task { await limiter.reportMetrics(every: .seconds(10)) }
        #expect(await eventually { clock.sleeperCount == 1 })
        let dimensions = [("limiter", "feed")]
        #expect(try metrics.expectGauge("keel_ratelimit_in_flight", dimensions).lastValue == 0)

        try await limiter.acquire()
        clock.advance(by: .seconds(10))
        #expect(await eventually { clock.sleepCallCount == 2 && clock.sleeperCount == 1 })
        #expect(try metrics.expectGauge("keel_ratelimit_in_flight", dimensions).lastValue == 1)
        #expect(metrics.counterTotal(label: "keel_ratelimit_acquired_total", dimensions: dimensions) == 1)

        limiter.release()
        reporter.cancel()
        await reporter.value
        #expect(try metrics.expectGauge("keel_ratelimit_in_flight", dimensions).lastValue == 0, "a last publication")
    }

    @Test func withoutAFactoryPublishingDoesNothing() {
        let limiter = RateLimiter(maxConcurrent: 1, clock: ManualClock())
        limiter.publishMetrics()
        #expect(limiter.statistics.acquired == 0)
    }
}
