import CoreMetrics

/// A limiter's statistics as swift-metrics gauges and counters, all with a `limiter` dimension.
///
/// Acquiring and releasing never touch metrics (the uncontended path stays under 100 ns); the
/// figures are published from ``RateLimiter/statistics`` by ``RateLimiter/publishMetrics()``,
/// which ``RateLimiter/reportMetrics(every:)`` calls periodically.
final class RateLimiterMetrics: Sendable {
    private let inFlight: Gauge
    private let queued: Gauge
    private let maxWait: Gauge
    private let minStartGap: Gauge
    private let acquired: Counter
    private let waited: Counter
    private let waitedSeconds: FloatingPointCounter
    private let timeouts: Counter
    private let cancellations: Counter

    init(factory: any MetricsFactory, limiterName: String) {
        let dimensions = [("limiter", limiterName)]
        inFlight = Gauge(label: "keel_ratelimit_in_flight", dimensions: dimensions, factory: factory)
        queued = Gauge(label: "keel_ratelimit_queued", dimensions: dimensions, factory: factory)
        maxWait = Gauge(label: "keel_ratelimit_max_wait_seconds", dimensions: dimensions, factory: factory)
        minStartGap = Gauge(label: "keel_ratelimit_min_start_gap_seconds", dimensions: dimensions, factory: factory)
        acquired = Counter(label: "keel_ratelimit_acquired_total", dimensions: dimensions, factory: factory)
        waited = Counter(label: "keel_ratelimit_waited_total", dimensions: dimensions, factory: factory)
        waitedSeconds = FloatingPointCounter(
            label: "keel_ratelimit_wait_seconds_total", dimensions: dimensions, factory: factory)
        timeouts = Counter(label: "keel_ratelimit_timeouts_total", dimensions: dimensions, factory: factory)
        cancellations = Counter(label: "keel_ratelimit_cancellations_total", dimensions: dimensions, factory: factory)
    }

    /// Sets the gauges and adds to the counters what changed since `previous`.
    func update(from previous: RateLimiterStatistics, to current: RateLimiterStatistics) {
        inFlight.record(current.inFlight)
        queued.record(current.queued)
        maxWait.record(Self.seconds(current.maxWait))
        if let gap = current.minStartGap { minStartGap.record(Self.seconds(gap)) }
        func add(_ counter: Counter, _ delta: Int) { if delta > 0 { counter.increment(by: Int64(delta)) } }
        add(acquired, current.acquired - previous.acquired)
        add(waited, current.waited - previous.waited)
        add(timeouts, current.timeouts - previous.timeouts)
        add(cancellations, current.cancellations - previous.cancellations)
        let waitDelta = Self.seconds(current.totalWait - previous.totalWait)
        if waitDelta > 0 { waitedSeconds.increment(by: waitDelta) }
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
