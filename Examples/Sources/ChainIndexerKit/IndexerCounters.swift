import Synchronization

/// The indexer's running counts of RPC calls, failures and breaker rejections.
final class IndexerCounters: Sendable {
    let calls = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
    let rejections = Atomic<Int>(0)

    /// Calls, failures, rejections now.
    var snapshot: (calls: Int, failures: Int, rejections: Int) {
        (calls.load(ordering: .relaxed), failures.load(ordering: .relaxed), rejections.load(ordering: .relaxed))
    }
}
