import CoreMetrics
import KeelCore

extension RedisLimiterStatistics {
    /// The fleet limiters' metrics (dimension `limiter`), published by their `publishMetrics()`;
    /// deciding never touches metrics.
    static let metricFigures: [StatisticsExporter<RedisLimiterStatistics>.Figure] = [
        .counter("keel_redis_limiter_allowed_total") { $0.allowed },
        .counter("keel_redis_limiter_denied_total") { $0.denied },
        .counter("keel_redis_limiter_denied_locally_total") { $0.deniedLocally },
        .counter("keel_redis_limiter_redis_failures_total") { $0.failures },
        .counter("keel_redis_limiter_outages_total") { $0.outages },
        .counter("keel_redis_limiter_decided_without_redis_total") { $0.decidedWithoutRedis },
        .counter("keel_redis_limiter_leases_lost_total") { $0.leasesLost },
        .gauge("keel_redis_limiter_leases_held") { Double($0.leasesHeld) },
        .gauge("keel_redis_limiter_redis_reachable") { $0.isRedisReachable ? 1 : 0 },
    ]

    /// The exporter of a limiter named `limiter` to `factory`; `nil` without a factory.
    static func exporter(limiter: String, factory: (any MetricsFactory)?) -> StatisticsExporter<RedisLimiterStatistics>? {
        factory.map {
            StatisticsExporter(factory: $0, dimensions: [("limiter", limiter)], initial: RedisLimiterStatistics(), figures: metricFigures)
        }
    }
}
