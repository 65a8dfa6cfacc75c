import CoreMetrics
import Synchronization

/// A count of calls, shared by the copies of a simulated API, and the swift-metrics counter
/// `label` it also goes to.
final class CallCounter: Sendable {
    private let count = Atomic<Int>(0)
    private let metric: Counter

    /// A counter reported as `label`.
    init(label: String) {
        metric = Counter(label: label)
    }

    /// The calls so far.
    var value: Int { count.load(ordering: .relaxed) }

    /// Counts one call.
    func add() {
        count.add(1, ordering: .relaxed)
        metric.increment()
    }
}
