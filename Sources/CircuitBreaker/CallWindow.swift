import KeelCore

/// The recent calls a failure rate is computed over: the last N calls (a ring of outcomes) or the
/// calls of the last duration (a ring of time buckets). A value type, kept under the breaker's lock.
/// Times are nanoseconds since the breaker was created.
struct CallWindow: Sendable {
    private enum Storage {
        /// `outcomes[i]` is 1 for a failure; `next` is where the next call goes.
        case count(outcomes: [UInt8], next: Int)
        /// Bucket `number` holds the calls made from `number × length` on.
        case time(buckets: [Bucket], length: Int64)
    }

    struct Bucket {
        var number: Int64 = -1
        var calls = 0
        var failures = 0
    }

    private var storage: Storage
    /// Calls in the window (count windows; time windows sum their live buckets).
    private var countCalls = 0
    private var countFailures = 0

    init(_ window: CircuitBreakerConfiguration.Window) {
        switch window {
        case .count(let calls):
            storage = .count(outcomes: [UInt8](repeating: 0, count: calls), next: 0)
        case .time(let duration, let buckets):
            storage = .time(buckets: [Bucket](repeating: Bucket(), count: buckets), length: max(1, duration.inNanoseconds / Int64(buckets)))
        }
    }

    /// Adds a call. `now` is needed by time windows only.
    mutating func record(failure: Bool, at now: Int64?) {
        switch storage {
        case .count(var outcomes, let next):
            storage = .count(outcomes: [], next: 0)  // keeps `outcomes` uniquely referenced
            if countCalls == outcomes.count {
                countFailures -= Int(outcomes[next])
            } else {
                countCalls += 1
            }
            outcomes[next] = failure ? 1 : 0
            countFailures += failure ? 1 : 0
            storage = .count(outcomes: outcomes, next: next + 1 == outcomes.count ? 0 : next + 1)
        case .time(var buckets, let length):
            guard let now else { return }
            storage = .time(buckets: [], length: length)
            let number = now / length
            let slot = Int(number % Int64(buckets.count))
            if buckets[slot].number != number { buckets[slot] = Bucket(number: number) }
            buckets[slot].calls += 1
            buckets[slot].failures += failure ? 1 : 0
            storage = .time(buckets: buckets, length: length)
        }
    }

    /// The calls and failures in the window at `now`.
    func totals(at now: Int64?) -> (calls: Int, failures: Int) {
        switch storage {
        case .count:
            return (countCalls, countFailures)
        case .time(let buckets, let length):
            guard let now else { return (0, 0) }
            let current = now / length
            var calls = 0
            var failures = 0
            for bucket in buckets where bucket.number > current - Int64(buckets.count) && bucket.number <= current {
                calls += bucket.calls
                failures += bucket.failures
            }
            return (calls, failures)
        }
    }
}
