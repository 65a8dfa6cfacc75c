import KeelCore

extension RateLimiterStatistics {
    /// The limiter's metrics (dimension `limiter`), published by ``RateLimiter/publishMetrics()``;
    /// acquiring and releasing never touch metrics.
    static let metricFigures: [StatisticsExporter<RateLimiterStatistics>.Figure] = [
        .gauge("keel_ratelimit_in_flight") { Double($0.inFlight) },
        .gauge("keel_ratelimit_queued") { Double($0.queued) },
        .gauge("keel_ratelimit_max_wait_seconds") { $0.maxWait.inSeconds },
        .gauge("keel_ratelimit_min_start_gap_seconds") { $0.minStartGap?.inSeconds },
        .counter("keel_ratelimit_acquired_total") { $0.acquired },
        .counter("keel_ratelimit_waited_total") { $0.waited },
        .secondsCounter("keel_ratelimit_wait_seconds_total") { $0.totalWait },
        .counter("keel_ratelimit_timeouts_total") { $0.timeouts },
        .counter("keel_ratelimit_cancellations_total") { $0.cancellations },
    ]
}
