import CoreMetrics
import KeelLocking

/// A breaker's metrics as swift-metrics gauges and counters, with a `breaker` dimension, published
/// by ``CircuitBreaker/publishMetrics()``: counters get what changed since the last publication.
final class CircuitBreakerMetricsExporter: Sendable {
    private let state: Gauge
    private let calls: Counter
    private let failures: Counter
    private let slowCalls: Counter
    private let notPermitted: Counter
    private let trips: Counter
    private let published = Locked(CircuitBreakerMetrics())

    init(factory: any MetricsFactory, breakerName: String) {
        let dimensions = [("breaker", breakerName)]
        state = Gauge(label: "keel_breaker_state", dimensions: dimensions, factory: factory)
        calls = Counter(label: "keel_breaker_calls_total", dimensions: dimensions, factory: factory)
        failures = Counter(label: "keel_breaker_failures_total", dimensions: dimensions, factory: factory)
        slowCalls = Counter(label: "keel_breaker_slow_calls_total", dimensions: dimensions, factory: factory)
        notPermitted = Counter(label: "keel_breaker_not_permitted_total", dimensions: dimensions, factory: factory)
        trips = Counter(label: "keel_breaker_trips_total", dimensions: dimensions, factory: factory)
    }

    func publish(_ current: CircuitBreakerMetrics) {
        let previous = published.withLock { previous in
            defer { previous = current }
            return previous
        }
        let code: Int =
            switch current.state {
            case .closed: 0
            case .open: 1
            case .halfOpen: 2
            case .forcedOpen: 3
            case .disabled: 4
            }
        state.record(code)
        func add(_ counter: Counter, _ delta: Int) { if delta > 0 { counter.increment(by: Int64(delta)) } }
        add(calls, current.calls - previous.calls)
        add(failures, current.failures - previous.failures)
        add(slowCalls, current.slowCalls - previous.slowCalls)
        add(notPermitted, current.notPermitted - previous.notPermitted)
        add(trips, current.trips - previous.trips)
    }
}
