import KeelCore

extension TieredCacheStatistics {
    /// The tiered cache's own metrics (dimension `cache`), published by
    /// ``TieredCache/publishMetrics()`` beside the memory level's `keel_cache_…`.
    static let metricFigures: [StatisticsExporter<TieredCacheStatistics>.Figure] = [
        .counter("keel_tiered_cache_shared_hits_total") { $0.sharedHits },
        .counter("keel_tiered_cache_shared_misses_total") { $0.sharedMisses },
        .counter("keel_tiered_cache_shared_stale_served_total") { $0.sharedStaleServed + $0.sharedLastGoodServed },
        .counter("keel_tiered_cache_undecodable_total") { $0.undecodable },
        .counter("keel_tiered_cache_fetches_total") { $0.fetches },
        .counter("keel_tiered_cache_fetch_lock_waits_total") { $0.fetchLockWaits },
        .counter("keel_tiered_cache_redis_failures_total") { $0.redisFailures },
        .counter("keel_tiered_cache_outages_total") { $0.outages },
        .counter("keel_tiered_cache_invalidations_published_total") { $0.invalidationsPublished },
        .counter("keel_tiered_cache_invalidations_received_total") { $0.invalidationsReceived },
    ]
}
