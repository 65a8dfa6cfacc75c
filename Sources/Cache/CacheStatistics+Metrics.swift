import KeelCore

extension CacheStatistics {
    /// The cache's metrics (dimension `cache`), published by ``Cache/publishMetrics()``; reads and
    /// writes never touch metrics.
    static let metricFigures: [StatisticsExporter<CacheStatistics>.Figure] = [
        .gauge("keel_cache_entries") { Double($0.count) },
        .counter("keel_cache_hits_total") { $0.hits },
        .counter("keel_cache_misses_total") { $0.misses },
        .counter("keel_cache_stale_served_total") { $0.staleServed },
        .counter("keel_cache_coalesced_waits_total") { $0.coalescedWaits },
        .counter("keel_cache_loads_total", dimensions: [("result", "success")]) { $0.loadsSucceeded },
        .counter("keel_cache_loads_total", dimensions: [("result", "failure")]) { $0.loadsFailed },
        .counter("keel_cache_evictions_total", dimensions: [("cause", "size")]) { $0.evictedBySize },
        .counter("keel_cache_evictions_total", dimensions: [("cause", "expired")]) { $0.evictedExpired },
        .counter("keel_cache_evictions_total", dimensions: [("cause", "explicit")]) { $0.evictedExplicitly },
        .counter("keel_cache_evictions_total", dimensions: [("cause", "replaced")]) { $0.replaced },
    ]
}
