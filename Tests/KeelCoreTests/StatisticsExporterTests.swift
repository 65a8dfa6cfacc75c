import KeelCore
import MetricsTestKit
import Testing

@Suite struct StatisticsExporterTests {
    struct Figures: Sendable {
        var current = 0
        var total = 0
        var waited: Duration = .zero
        var optional: Double?
    }

    @Test func gaugesGetTheValueAndCountersWhatGrew() throws {
        let metrics = TestMetrics()
        let exporter = StatisticsExporter<Figures>(
            factory: metrics, dimensions: [("thing", "a")], initial: Figures(),
            figures: [
                .gauge("current") { Double($0.current) },
                .gauge("optional") { $0.optional },
                .counter("total", dimensions: [("kind", "x")]) { $0.total },
                .secondsCounter("waited") { $0.waited },
            ])
        exporter.publish(Figures(current: 3, total: 5, waited: .seconds(2), optional: nil))
        exporter.publish(Figures(current: 1, total: 7, waited: .seconds(5), optional: 2.5))
        exporter.publish(Figures(current: 1, total: 7, waited: .seconds(5), optional: nil))

        let gauge = try metrics.expectGauge("current", [("thing", "a")])
        #expect(gauge.values == [3, 1, 1])
        #expect(try metrics.expectGauge("optional", [("thing", "a")]).values == [2.5])
        let counter = try metrics.expectCounter("total", [("thing", "a"), ("kind", "x")])
        #expect(counter.values == [5, 2])
        #expect(counter.totalValue == 7)
        // swift-metrics' default floating-point counter accumulates into an integer one.
        let waited = try metrics.expectCounter("waited", [("thing", "a")])
        #expect(waited.totalValue == 5)
    }

    @Test func aTotalThatFellAddsNothing() throws {
        let metrics = TestMetrics()
        let exporter = StatisticsExporter<Figures>(
            factory: metrics, dimensions: [], initial: Figures(total: 10), figures: [.counter("total") { $0.total }])
        exporter.publish(Figures(total: 4))
        exporter.publish(Figures(total: 6))
        #expect(try metrics.expectCounter("total").values == [2])
    }
}
