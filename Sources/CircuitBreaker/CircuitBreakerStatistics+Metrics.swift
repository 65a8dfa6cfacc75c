import KeelCore

extension CircuitBreakerStatistics {
    /// The breaker's metrics (dimension `breaker`), published by ``CircuitBreaker/publishMetrics()``:
    /// the state as a gauge (0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled) and counters.
    static let metricFigures: [StatisticsExporter<CircuitBreakerStatistics>.Figure] = [
        .gauge("keel_breaker_state") { metrics in
            switch metrics.state {
            case .closed: 0
            case .open: 1
            case .halfOpen: 2
            case .forcedOpen: 3
            case .disabled: 4
            }
        },
        .counter("keel_breaker_calls_total") { $0.calls },
        .counter("keel_breaker_failures_total") { $0.failures },
        .counter("keel_breaker_slow_calls_total") { $0.slowCalls },
        .counter("keel_breaker_not_permitted_total") { $0.notPermitted },
        .counter("keel_breaker_trips_total") { $0.trips },
        .counter("keel_breaker_shared_opens_total") { $0.sharedOpens },
        .counter("keel_breaker_shared_closes_total") { $0.sharedCloses },
    ]
}
