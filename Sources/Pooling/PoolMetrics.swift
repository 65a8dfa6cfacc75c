import CoreMetrics
import KeelCore

/// The pool's figures as swift-metrics gauges, counters and a timer, all with a `pool` dimension.
///
/// Gauges and counters are brought up to date by the maintenance task at each sweep (at least
/// every ``PoolConfiguration/maintenanceInterval``), so leasing and releasing never touch
/// metrics; the wait timer records each lease that had to wait, when it gets its connection.
final class PoolMetrics: Sendable {
    private let exporter: StatisticsExporter<PoolStatistics>
    private let waitDuration: Timer

    init(factory: any MetricsFactory, poolName: String) {
        let dimensions = [("pool", poolName)]
        exporter = StatisticsExporter(
            factory: factory, dimensions: dimensions, initial: PoolStatistics(),
            figures: [
                .gauge("keel_pool_connections_open") { Double($0.open) },
                .gauge("keel_pool_connections_idle") { Double($0.idle) },
                .gauge("keel_pool_connections_in_use") { Double($0.inUse) },
                .gauge("keel_pool_waiting") { Double($0.waiting) },
                .counter("keel_pool_connections_created_total") { $0.created },
                .counter("keel_pool_connection_failures_total") { $0.creationFailures },
                .counter("keel_pool_acquire_timeouts_total") { $0.timeouts },
                .counter("keel_pool_waits_total") { $0.waitCount },
            ]
                + CloseReason.allCases.map { reason in
                    .counter("keel_pool_connections_closed_total", dimensions: [("reason", reason.rawValue)]) {
                        $0.closed(reason)
                    }
                })
        waitDuration = Timer(label: "keel_pool_wait_duration", dimensions: dimensions, factory: factory)
    }

    /// Sets the gauges from `statistics` and adds to the counters what changed since the last call.
    func publish(_ statistics: @autoclosure () -> PoolStatistics) {
        exporter.publish(statistics())
    }

    /// Records how long one lease waited.
    func recordWait(_ duration: Duration) {
        waitDuration.recordNanoseconds(duration.inNanoseconds)
    }
}
