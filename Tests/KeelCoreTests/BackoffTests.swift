import KeelCore
import Testing

@Suite struct BackoffTests {
    @Test func delaysGrowByTheMultiplierUpToTheCap() {
        let backoff = Backoff(initialDelay: .milliseconds(1), maximumDelay: .milliseconds(64), jitter: .none)
        let delays = (1...9).map { backoff.delay(afterFailure: $0, random: 0.5) }
        #expect(delays == [1, 2, 4, 8, 16, 32, 64, 64, 64].map { .milliseconds($0) })
        let slower = Backoff(initialDelay: .milliseconds(100), multiplier: 3, maximumDelay: .seconds(1), jitter: .none)
        #expect((1...4).map { slower.delay(afterFailure: $0, random: 0) } == [.milliseconds(100), .milliseconds(300), .milliseconds(900), .seconds(1)])
    }

    @Test func equalJitterKeepsHalfOfEachDelay() {
        let backoff = Backoff(initialDelay: .milliseconds(1), maximumDelay: .milliseconds(64), jitter: .equal)
        #expect(backoff.delay(afterFailure: 2, random: 0) == .milliseconds(1))
        #expect(backoff.delay(afterFailure: 2, random: 0.5) == .microseconds(1_500))
        #expect(backoff.delay(afterFailure: 20, random: 0) == .milliseconds(32))
    }

    @Test func fullJitterSpansZeroToTheDelay() {
        let backoff = Backoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(1), jitter: .full)
        #expect(backoff.delay(afterFailure: 3, random: 0) == .zero)
        #expect(backoff.delay(afterFailure: 3, random: 0.25) == .milliseconds(100))
    }

    @Test func decorrelatedJitterStaysBetweenTheFirstDelayAndThreeTimesThePrevious() {
        let backoff = Backoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(1), jitter: .decorrelated)
        var random = SplitMix64(seed: 7)
        var previous: Duration?
        for attempt in 1...50 {
            let delay = backoff.delay(afterFailure: attempt, previous: previous, using: &random)
            #expect(delay >= .milliseconds(100) && delay <= min((previous ?? .milliseconds(100)) * 3, .seconds(1)))
            previous = delay
        }
    }

    @Test func aSeededGeneratorRepeatsItself() {
        var first = SplitMix64(seed: 42)
        var second = SplitMix64(seed: 42)
        let a = (0..<5).map { _ in first.next() }
        #expect(a == (0..<5).map { _ in second.next() })
        #expect(Set(a).count == 5)
        for _ in 0..<1000 {
            let unit = first.nextUnit()
            #expect(unit >= 0 && unit < 1)
        }
    }
}
