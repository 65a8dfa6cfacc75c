import CircuitBreaker
import KeelCore
import KeelTesting
import Synchronization
import Testing

@Suite struct RetryTests {
    @Test func delaysStayWithinTheirJitterBounds() {
        var generator = SplitMix64(seed: 42)
        var policy = RetryPolicy(maxAttempts: 10, initialDelay: .milliseconds(100), multiplier: 2, maxDelay: .seconds(1), jitter: .none)
        let exact = (1...6).map { policy.delay(afterAttempt: $0, previous: nil, using: &generator) }
        #expect(exact == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])

        policy.jitter = .full
        for attempt in 1...6 {
            let ceiling = min(Duration.milliseconds(100) * (1 << (attempt - 1)), .seconds(1))
            for _ in 0..<200 {
                let delay = policy.delay(afterAttempt: attempt, previous: nil, using: &generator)
                #expect(delay >= .zero && delay <= ceiling)
            }
        }

        policy.jitter = .decorrelated
        var previous: Duration?
        for attempt in 1...50 {
            let delay = policy.delay(afterAttempt: attempt, previous: previous, using: &generator)
            let ceiling = min((previous ?? .milliseconds(100)) * 3, .seconds(1))
            #expect(delay >= .milliseconds(100) && delay <= ceiling)
            previous = delay
        }
    }

    @Test func retriesUntilSuccessSleepingOnTheClock() async throws {
        let clock = ManualClock()
        let attempts = Shared()
        let policy = RetryPolicy.databaseLocked { $0 is Outage }
        let task = Task {
            try await retry(policy, clock: clock) {
                if attempts.count.add(1, ordering: .relaxed).newValue < 3 { throw Outage() }
                return "done"
            }
        }
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .milliseconds(100))
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .milliseconds(199))
        #expect(clock.sleeperCount == 1, "the second delay is 200 ms")
        clock.advance(by: .milliseconds(1))
        #expect(try await task.value == "done")
        #expect(attempts.count.load(ordering: .relaxed) == 3)
    }

    @Test func givesUpAfterMaxAttemptsWithTheLastError() async throws {
        let attempts = Shared()
        await #expect(throws: Outage.self) {
            try await retry(RetryPolicy(maxAttempts: 3, initialDelay: .zero, jitter: .none), clock: ManualClock()) {
                attempts.count.add(1, ordering: .relaxed)
                throw Outage()
            }
        }
        #expect(attempts.count.load(ordering: .relaxed) == 3)
    }

    @Test func neverRetriesNonRetryableErrorsNorAnOpenBreaker() async throws {
        let attempts = Shared()
        var policy = RetryPolicy(maxAttempts: 5, initialDelay: .zero)
        policy.shouldRetry = { !($0 is Validation) && RetryPolicy.retriesAllButCancellationAndOpenBreakers($0) }
        await #expect(throws: Validation.self) {
            try await retry(policy, clock: ManualClock()) {
                attempts.count.add(1, ordering: .relaxed)
                throw Validation()
            }
        }
        var configuration = CircuitBreakerConfiguration()
        configuration.consecutiveFailures = 1
        let breaker = try CircuitBreaker(configuration: configuration, clock: ManualClock())
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        await #expect(throws: CircuitBreakerError.self) {
            try await retry(policy, clock: ManualClock()) {
                attempts.count.add(1, ordering: .relaxed)
                try await breaker.run(succeeding)
            }
        }
        #expect(attempts.count.load(ordering: .relaxed) == 2, "one attempt each")
    }

    @Test func theDeadlineStopsRetriesThatWouldEndPastIt() async throws {
        let clock = ManualClock()
        let attempts = Shared()
        let policy = RetryPolicy(maxAttempts: 10, initialDelay: .seconds(1), multiplier: 2, jitter: .none, deadline: .seconds(5))
        let task = Task {
            try await retry(policy, clock: clock) {
                attempts.count.add(1, ordering: .relaxed)
                throw Outage()
            }
        }
        // Delays 1 s and 2 s fit (ending at 3 s); the next, 4 s, would end at 7 s > 5 s.
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(1))
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(2))
        await #expect(throws: Outage.self) { try await task.value }
        #expect(attempts.count.load(ordering: .relaxed) == 3)
        #expect(clock.sleepCallCount == 2)
    }

    @Test func aServerRetryAfterIsHonoured() async throws {
        let clock = ManualClock()
        let attempts = Shared()
        var policy = RetryPolicy(maxAttempts: 2, initialDelay: .milliseconds(10), jitter: .none)
        policy.retryAfter = { _ in .seconds(30) }
        let task = Task {
            try await retry(policy, clock: clock) {
                if attempts.count.add(1, ordering: .relaxed).newValue == 1 { throw Outage() }
            }
        }
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(29))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        try await task.value
    }

    @Test func cancellationEndsTheWait() async throws {
        let clock = ManualClock()
        let task = Task {
            try await retry(RetryPolicy(maxAttempts: 3, initialDelay: .seconds(1), jitter: .none), clock: clock) { throw Outage() }
        }
        #expect(await clock.waitForSleepers(1))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
