import Histogram
import Synchronization

/// Query latencies recorded by many tasks, read as percentiles per interval and overall, in two
/// HdrHistograms (microseconds, three significant digits, up to 10 minutes): memory stays fixed
/// however long the run.
public final class LatencyRecorder: Sendable {
    /// The longest latency told apart, in microseconds; longer ones count as this long.
    static let highestMicroseconds: UInt64 = 600_000_000
    private let histograms: Mutex<(recent: Histogram<UInt64>, all: Histogram<UInt64>)>

    /// An empty recorder.
    public init() {
        let empty = Histogram<UInt64>(highestTrackableValue: Self.highestMicroseconds, numberOfSignificantValueDigits: .three)
        histograms = Mutex((empty, empty))
    }

    /// Records one latency.
    public func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let microseconds = max(0, seconds) * 1_000_000 + max(0, attoseconds) / 1_000_000_000_000
        let value = min(UInt64(microseconds), Self.highestMicroseconds)
        histograms.withLock {
            _ = $0.recent.record(value)
            _ = $0.all.record(value)
        }
    }

    /// The latencies since the last call, which empties them.
    public func takeRecent() -> LatencySummary {
        histograms.withLock { histograms in
            defer { histograms.recent.reset() }
            return LatencySummary(histogram: histograms.recent)
        }
    }

    /// Every latency recorded.
    public var all: LatencySummary { histograms.withLock { LatencySummary(histogram: $0.all) } }
}
