import Synchronization

/// Query latencies recorded by many tasks, read as percentiles per interval and overall.
public final class LatencyRecorder: Sendable {
    private let samples = Mutex<(recent: [Double], all: [Double])>(([], []))

    /// An empty recorder.
    public init() {}

    /// Records one latency.
    public func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let milliseconds = Double(seconds) * 1_000 + Double(attoseconds) / 1e15
        samples.withLock {
            $0.recent.append(milliseconds)
            $0.all.append(milliseconds)
        }
    }

    /// The latencies since the last call, emptied.
    public func takeRecent() -> [Double] {
        samples.withLock { samples in
            defer { samples.recent.removeAll(keepingCapacity: true) }
            return samples.recent
        }
    }

    /// Every latency recorded.
    public var all: [Double] { samples.withLock { $0.all } }

    /// The `fraction` percentile (nearest rank) of `values`, in milliseconds; 0 when empty.
    public static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[rank]
    }
}
