import CoreMetrics
public import Hummingbird
import Prometheus

/// The metrics of an example service, in Prometheus's text format at `GET /metrics`.
///
/// The first use of ``registry`` bootstraps swift-metrics with swift-prometheus's factory, so
/// every metric of the process goes there: Keel's modules report to `MetricsSystem.factory` by
/// default, and Hummingbird's `MetricsMiddleware` does too. Bootstrap it before the database,
/// caches and limiters are made (a service's command does it first).
///
/// ```swift
/// ExampleMetrics.bootstrap()
/// router.get("metrics") { _, _ in ExampleMetrics.response { database.publishMetrics() } }
/// ```
public enum ExampleMetrics {
    /// Where every metric of the process is kept.
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Sends the process's metrics to ``registry`` from now on (once per process; later calls do nothing).
    public static func bootstrap() {
        _ = registry
    }

    /// The `/metrics` answer: `publish` brings the modules' gauges and counters up to date (their
    /// `publishMetrics()`), then the registry is written out.
    public static func response(publishing publish: () -> Void) -> Response {
        publish()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}
