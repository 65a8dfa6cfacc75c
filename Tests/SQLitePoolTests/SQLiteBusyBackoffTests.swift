@testable import SQLitePool
import Testing

@Suite struct SQLiteBusyBackoffTests {
    @Test func delaysDoubleWithJitterUpToTheCap() {
        var backoff = SQLiteBusyBackoff(timeout: .seconds(10), initialDelay: .milliseconds(1), maximumDelay: .milliseconds(64))
        var bounds: [Duration] = []
        for _ in 0..<9 {
            bounds.append(backoff.nextDelay(elapsed: .zero, random: 0.999_999)!)
        }
        let expected: [Duration] = [1, 2, 4, 8, 16, 32, 64, 64, 64].map { .milliseconds($0) }
        for (delay, bound) in zip(bounds, expected) {
            #expect(delay <= bound && delay > bound * 0.99)
        }
        #expect(backoff.attempts == 9)
    }

    @Test func jitterKeepsAtLeastHalf() {
        var backoff = SQLiteBusyBackoff(timeout: .seconds(10))
        _ = backoff.nextDelay(elapsed: .zero, random: 0)
        let third = backoff.nextDelay(elapsed: .zero, random: 0)!
        #expect(third == .milliseconds(1), "half of the second attempt's 2 ms")
    }

    @Test func neverWaitsPastTheDeadlineAndThenGivesUp() {
        var backoff = SQLiteBusyBackoff(timeout: .milliseconds(100))
        for _ in 0..<7 { _ = backoff.nextDelay(elapsed: .zero, random: 1) }
        #expect(backoff.nextDelay(elapsed: .milliseconds(90), random: 1) == .milliseconds(10))
        #expect(backoff.nextDelay(elapsed: .milliseconds(100), random: 0.5) == nil)
        #expect(backoff.nextDelay(elapsed: .milliseconds(150), random: 0.5) == nil)
    }

    @Test func aZeroTimeoutNeverRetries() {
        var backoff = SQLiteBusyBackoff(timeout: .zero)
        #expect(backoff.nextDelay(elapsed: .zero, random: 0.5) == nil)
    }
}
