import CoreMetrics
import KeelLocking

/// A cache's statistics as swift-metrics, published by ``Cache/publishMetrics()``: counters get what
/// changed since the last publication.
final class CacheMetricsExporter: Sendable {
    private let entries: Gauge
    private let hits: Counter
    private let misses: Counter
    private let staleServed: Counter
    private let coalescedWaits: Counter
    private let loadsSucceeded: Counter
    private let loadsFailed: Counter
    private let evictions: [String: Counter]
    private let published = Locked(CacheStatistics())

    init(factory: any MetricsFactory, cacheName: String) {
        let dimensions = [("cache", cacheName)]
        entries = Gauge(label: "keel_cache_entries", dimensions: dimensions, factory: factory)
        hits = Counter(label: "keel_cache_hits_total", dimensions: dimensions, factory: factory)
        misses = Counter(label: "keel_cache_misses_total", dimensions: dimensions, factory: factory)
        staleServed = Counter(label: "keel_cache_stale_served_total", dimensions: dimensions, factory: factory)
        coalescedWaits = Counter(label: "keel_cache_coalesced_waits_total", dimensions: dimensions, factory: factory)
        loadsSucceeded = Counter(label: "keel_cache_loads_total", dimensions: dimensions + [("result", "success")], factory: factory)
        loadsFailed = Counter(label: "keel_cache_loads_total", dimensions: dimensions + [("result", "failure")], factory: factory)
        var evictions: [String: Counter] = [:]
        for cause in ["size", "expired", "explicit", "replaced"] {
            evictions[cause] = Counter(label: "keel_cache_evictions_total", dimensions: dimensions + [("cause", cause)], factory: factory)
        }
        self.evictions = evictions
    }

    func publish(_ current: CacheStatistics) {
        let previous = published.withLock { previous in
            defer { previous = current }
            return previous
        }
        entries.record(current.count)
        func add(_ counter: Counter?, _ delta: Int) { if delta > 0 { counter?.increment(by: Int64(delta)) } }
        add(hits, current.hits - previous.hits)
        add(misses, current.misses - previous.misses)
        add(staleServed, current.staleServed - previous.staleServed)
        add(coalescedWaits, current.coalescedWaits - previous.coalescedWaits)
        add(loadsSucceeded, current.loadsSucceeded - previous.loadsSucceeded)
        add(loadsFailed, current.loadsFailed - previous.loadsFailed)
        add(evictions["size"], current.evictedBySize - previous.evictedBySize)
        add(evictions["expired"], current.evictedExpired - previous.evictedExpired)
        add(evictions["explicit"], current.evictedExplicitly - previous.evictedExplicitly)
        add(evictions["replaced"], current.replaced - previous.replaced)
    }
}
