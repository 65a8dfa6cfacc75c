import Synchronization

/// A count of calls, shared by the copies of a simulated API.
final class CallCounter: Sendable {
    let count = Atomic<Int>(0)
}
