import Histogram

/// Recorded latencies, read as percentiles.
public struct LatencySummary: Sendable {
    let histogram: Histogram<UInt64>

    /// How many latencies were recorded.
    public var count: Int { Int(histogram.totalCount) }

    /// The `fraction` percentile (0.5 for the median), in milliseconds, to the histogram's
    /// precision (three significant digits); 0 when nothing was recorded.
    public func percentile(_ fraction: Double) -> Double {
        guard histogram.totalCount > 0 else { return 0 }
        return Double(histogram.valueAtPercentile(fraction * 100)) / 1_000
    }
}
