public import CoreMetrics

/// Publishes a module's statistics (a value of running totals and current figures) as
/// swift-metrics: each gauge gets its figure's current value, each counter what its total grew by
/// since the last publication. The hot paths of a module never touch metrics; its
/// `publishMetrics()` hands the statistics of the moment to ``publish(_:)``.
///
/// ```swift
/// let exporter = StatisticsExporter<PoolStatistics>(
///     factory: MetricsSystem.factory, dimensions: [("pool", "main")], initial: PoolStatistics(),
///     figures: [.gauge("keel_pool_connections_open") { Double($0.open) },
///               .counter("keel_pool_connections_created_total") { $0.created }])
/// exporter.publish(pool.statistics)
/// ```
public final class StatisticsExporter<Statistics: Sendable>: Sendable {
    /// One figure of the statistics and the metric it is published as.
    public struct Figure: Sendable {
        enum Kind: Sendable {
            case gauge(@Sendable (Statistics) -> Double?)
            case counter(@Sendable (Statistics) -> Int)
            case secondsCounter(@Sendable (Statistics) -> Duration)
        }

        let label: String
        let dimensions: [(String, String)]
        let kind: Kind

        /// A gauge set to `value` at each publication (left as it was when `value` is `nil`).
        public static func gauge(
            _ label: String, dimensions: [(String, String)] = [], _ value: @escaping @Sendable (Statistics) -> Double?
        ) -> Figure {
            Figure(label: label, dimensions: dimensions, kind: .gauge(value))
        }

        /// A counter of the running total `total`: each publication adds what it grew by.
        public static func counter(
            _ label: String, dimensions: [(String, String)] = [], _ total: @escaping @Sendable (Statistics) -> Int
        ) -> Figure {
            Figure(label: label, dimensions: dimensions, kind: .counter(total))
        }

        /// A floating-point counter of the running total `total`, in seconds.
        public static func secondsCounter(
            _ label: String, dimensions: [(String, String)] = [], _ total: @escaping @Sendable (Statistics) -> Duration
        ) -> Figure {
            Figure(label: label, dimensions: dimensions, kind: .secondsCounter(total))
        }
    }

    private enum Metric: Sendable {
        case gauge(Gauge, @Sendable (Statistics) -> Double?)
        case counter(Counter, @Sendable (Statistics) -> Int)
        case secondsCounter(FloatingPointCounter, @Sendable (Statistics) -> Duration)
    }

    private let metrics: [Metric]
    private let published: Locked<Statistics>

    /// Makes the metrics of `figures` in `factory`, each with `dimensions` (then its own);
    /// counters count from `initial`.
    public init(factory: any MetricsFactory, dimensions: [(String, String)], initial: Statistics, figures: [Figure]) {
        metrics = figures.map { figure in
            let dimensions = dimensions + figure.dimensions
            switch figure.kind {
            case .gauge(let value):
                return .gauge(Gauge(label: figure.label, dimensions: dimensions, factory: factory), value)
            case .counter(let total):
                return .counter(Counter(label: figure.label, dimensions: dimensions, factory: factory), total)
            case .secondsCounter(let total):
                return .secondsCounter(FloatingPointCounter(label: figure.label, dimensions: dimensions, factory: factory), total)
            }
        }
        published = Locked(initial)
    }

    /// Sets the gauges from `current` and adds to the counters what grew since the last call.
    /// `current` is read under the exporter's lock, so publications from several tasks count
    /// every change once.
    public func publish(_ current: @autoclosure () -> Statistics) {
        let (previous, current) = published.withLock { published in
            let current = current()
            defer { published = current }
            return (published, current)
        }
        for metric in metrics {
            switch metric {
            case .gauge(let gauge, let value):
                if let value = value(current) { gauge.record(value) }
            case .counter(let counter, let total):
                let delta = total(current) - total(previous)
                if delta > 0 { counter.increment(by: Int64(delta)) }
            case .secondsCounter(let counter, let total):
                let delta = (total(current) - total(previous)).inSeconds
                if delta > 0 { counter.increment(by: delta) }
            }
        }
    }
}
