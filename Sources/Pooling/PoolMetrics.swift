import CoreMetrics

/// The pool's figures as swift-metrics gauges, counters and a timer, all with a `pool` dimension.
///
/// Gauges and counters are brought up to date by the maintenance task at each sweep (at least
/// every ``PoolConfiguration/maintenanceInterval``), so leasing and releasing never touch
/// metrics; the wait timer records each lease that had to wait, when it gets its connection.
final class PoolMetrics: Sendable {
    private let open: Gauge
    private let idle: Gauge
    private let inUse: Gauge
    private let waiting: Gauge
    private let created: Counter
    private let creationFailures: Counter
    private let timeouts: Counter
    private let waits: Counter
    private let closed: [CloseReason: Counter]
    private let waitDuration: Timer

    init(factory: any MetricsFactory, poolName: String) {
        let dimensions = [("pool", poolName)]
        open = Gauge(label: "keel_pool_connections_open", dimensions: dimensions, factory: factory)
        idle = Gauge(label: "keel_pool_connections_idle", dimensions: dimensions, factory: factory)
        inUse = Gauge(label: "keel_pool_connections_in_use", dimensions: dimensions, factory: factory)
        waiting = Gauge(label: "keel_pool_waiting", dimensions: dimensions, factory: factory)
        created = Counter(label: "keel_pool_connections_created_total", dimensions: dimensions, factory: factory)
        creationFailures = Counter(label: "keel_pool_connection_failures_total", dimensions: dimensions, factory: factory)
        timeouts = Counter(label: "keel_pool_acquire_timeouts_total", dimensions: dimensions, factory: factory)
        waits = Counter(label: "keel_pool_waits_total", dimensions: dimensions, factory: factory)
        var closed: [CloseReason: Counter] = [:]
        for reason in CloseReason.allCases {
            closed[reason] = Counter(
                label: "keel_pool_connections_closed_total", dimensions: dimensions + [("reason", reason.rawValue)],
                factory: factory)
        }
        self.closed = closed
        waitDuration = Timer(label: "keel_pool_wait_duration", dimensions: dimensions, factory: factory)
    }

    /// Sets the gauges and adds to the counters what changed since `previous`.
    func update(from previous: PoolStatistics, to current: PoolStatistics) {
        open.record(current.open)
        idle.record(current.idle)
        inUse.record(current.inUse)
        waiting.record(current.waiting)
        func add(_ counter: Counter, _ delta: Int) { if delta > 0 { counter.increment(by: Int64(delta)) } }
        add(created, current.created - previous.created)
        add(creationFailures, current.creationFailures - previous.creationFailures)
        add(timeouts, current.timeouts - previous.timeouts)
        add(waits, current.waitCount - previous.waitCount)
        for reason in CloseReason.allCases {
            add(closed[reason]!, current.closed(reason) - previous.closed(reason))
        }
    }

    /// Records how long one lease waited.
    func recordWait(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        waitDuration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
