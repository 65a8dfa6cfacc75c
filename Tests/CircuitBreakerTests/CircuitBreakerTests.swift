import CircuitBreaker
import KeelTesting
import MetricsTestKit
import KeelCore
import Synchronization
import Testing

struct Outage: Error {}
struct NotFound: Error {}
struct Validation: Error {}

/// A call that fails with `Outage`.
func failing() async throws {
    throw Outage()
}

/// A call that succeeds.
func succeeding() async throws {}

/// Shared counters and flags for concurrent test tasks (an `Atomic` cannot be captured).
final class Shared: Sendable {
    let count = Atomic<Int>(0)
    let flag = Atomic<Bool>(false)
}

/// Records the transitions a breaker announces through its callback.
final class TransitionLog: Sendable {
    private let transitions = Locked<[String]>([])
    var all: [String] { transitions.withLock { $0 } }
    func record(_ transition: CircuitBreakerTransition) { transitions.withLock { $0.append("\(transition.from)->\(transition.to)") } }
}

@Suite struct CircuitBreakerTests {
    func breaker(
        _ configure: (inout CircuitBreakerConfiguration) -> Void = { _ in }, clock: ManualClock = ManualClock(), log: TransitionLog? = nil
    ) throws -> CircuitBreaker<ManualClock> {
        var configuration = CircuitBreakerConfiguration()
        configure(&configuration)
        var onTransition: (@Sendable (CircuitBreakerTransition) -> Void)?
        if let log { onTransition = { log.record($0) } }
        return try CircuitBreaker(name: "rpc", configuration: configuration, clock: clock, onTransition: onTransition)
    }

    @Test func aSettingOutOfRangeIsNamedWithItsValue() throws {
        var configuration = CircuitBreakerConfiguration()
        configuration.failureRateThreshold = 1.5
        #expect(throws: CircuitBreakerConfigurationError(
            setting: "failureRateThreshold", value: "1.5", message: "failureRateThreshold is 1.5 but must be in 0 < rate <= 1")) {
            _ = try CircuitBreaker(configuration: configuration, clock: ManualClock())
        }
        var override = CircuitBreakerConfiguration()
        override.halfOpenMaxCalls = 0
        #expect(throws: CircuitBreakerConfigurationError.self) {
            _ = try CircuitBreakerRegistry(overrides: ["eth_getLogs": override], clock: ManualClock())
        }
        _ = try CircuitBreakerRegistry(overrides: ["eth_getLogs": CircuitBreakerConfiguration()], clock: ManualClock())
    }

    @Test func everyTransitionOfTheStateMachine() async throws {
        let clock = ManualClock()
        let log = TransitionLog()
        let breaker = try breaker({ $0.consecutiveFailures = 3; $0.openDuration = .seconds(10) }, clock: clock, log: log)
        for _ in 0..<2 { await #expect(throws: Outage.self) { try await breaker.run(failing) } }
        #expect(breaker.state == .closed)
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        #expect(breaker.state == .open)

        // Open: rejected without calling, with the time left.
        let calls = Shared()
        await #expect(throws: CircuitBreakerError.open(remaining: .seconds(10))) {
            try await breaker.run { calls.count.add(1, ordering: .relaxed) }
        }
        clock.advance(by: .seconds(4))
        await #expect(throws: CircuitBreakerError.open(remaining: .seconds(6))) { try await breaker.run(succeeding) }
        #expect(calls.count.load(ordering: .relaxed) == 0)

        // Half-open after exactly the open duration; a failed probe re-opens.
        clock.advance(by: .seconds(6))
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        #expect(breaker.state == .open)
        clock.advance(by: .seconds(10))
        try await breaker.run(succeeding)
        #expect(breaker.state == .closed)

        breaker.forceOpen()
        await #expect(throws: CircuitBreakerError.open(remaining: nil)) { try await breaker.run(succeeding) }
        breaker.reset()
        try await breaker.run(succeeding)
        breaker.disable()
        for _ in 0..<10 { await #expect(throws: Outage.self) { try await breaker.run(failing) } }
        #expect(breaker.state == .disabled)
        breaker.reset()
        #expect(
            log.all == [
                "closed->open", "open->halfOpen", "halfOpen->open", "open->halfOpen", "halfOpen->closed", "closed->forcedOpen",
                "forcedOpen->closed", "closed->disabled", "disabled->closed",
            ])
        let metrics = breaker.statistics
        #expect(metrics.trips == 2 && metrics.notPermitted == 3 && metrics.failures == 4 && metrics.successes == 2)
    }

    @Test func theOpenDurationGrowsOnRepeatedTripsUpToItsCap() async throws {
        let clock = ManualClock()
        let breaker = try breaker(
            {
                $0.consecutiveFailures = 1
                $0.openDuration = .seconds(10)
                $0.openDurationMultiplier = 2
                $0.maxOpenDuration = .seconds(30)
            }, clock: clock)
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        for expected in [20, 30, 30] {
            clock.advance(by: .seconds(30))
            await #expect(throws: Outage.self) { try await breaker.run(failing) }  // a failed probe
            await #expect(throws: CircuitBreakerError.open(remaining: .seconds(expected))) { try await breaker.run(succeeding) }
        }
        clock.advance(by: .seconds(30))
        try await breaker.run(succeeding)
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        await #expect(throws: CircuitBreakerError.open(remaining: .seconds(10)), "a close starts again from openDuration") {
            try await breaker.run(succeeding)
        }
    }

    @Test func aCountWindowTripsAtItsExactBoundary() async throws {
        let breaker = try breaker {
            $0.consecutiveFailures = nil
            $0.failureRateThreshold = 0.5
            $0.window = .count(4)
            $0.minimumCalls = 4
        }
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        try await breaker.run(succeeding)
        #expect(breaker.state == .closed, "3 calls are under minimumCalls, though 2 of 3 failed")
        try await breaker.run(succeeding)  // window F F S S: 0.5, but the last call succeeded
        #expect(breaker.state == .closed)
        try await breaker.run(succeeding)  // window F S S S: the first failure left
        await #expect(throws: Outage.self) { try await breaker.run(failing) }  // S S S F: 0.25
        #expect(breaker.state == .closed && breaker.statistics.windowCalls == 4 && breaker.statistics.windowFailures == 1)
        await #expect(throws: Outage.self) { try await breaker.run(failing) }  // S S F F: 0.5
        #expect(breaker.state == .open)
    }

    @Test func aTimeWindowForgetsCallsOlderThanItsDuration() async throws {
        let clock = ManualClock()
        let breaker = try breaker(
            {
                $0.consecutiveFailures = nil
                $0.failureRateThreshold = 0.6
                $0.window = .time(.seconds(10), buckets: 10)
                $0.minimumCalls = 3
            }, clock: clock)
        await #expect(throws: Outage.self) { try await breaker.run(failing) }  // t = 0
        await #expect(throws: Outage.self) { try await breaker.run(failing) }  // t = 0
        clock.advance(by: .milliseconds(9_999))
        try await breaker.run(succeeding)  // t = 9.999: 2 of 3 failed, 0.67 >= 0.6, but this one succeeded
        #expect(breaker.statistics.windowCalls == 3)
        clock.advance(by: .milliseconds(1))  // t = 10: the bucket of t = 0 leaves
        #expect(breaker.statistics.windowCalls == 1)
        await #expect(throws: Outage.self) { try await breaker.run(failing) }  // 1 of 2: under minimumCalls
        #expect(breaker.state == .closed)
        await #expect(throws: Outage.self) { try await breaker.run(failing) }  // 2 of 3 failed
        #expect(breaker.state == .open)
    }

    @Test func slowCallsCountAsFailures() async throws {
        let clock = ManualClock()
        let breaker = try breaker({ $0.consecutiveFailures = 2; $0.slowCallThreshold = .seconds(1) }, clock: clock)
        try await breaker.run { clock.advance(by: .seconds(1)) }  // exactly the threshold: not slow
        try await breaker.run { clock.advance(by: .seconds(2)) }
        #expect(breaker.state == .closed && breaker.statistics.slowCalls == 1)
        try await breaker.run { clock.advance(by: .seconds(2)) }
        #expect(breaker.state == .open)
        #expect(breaker.statistics.slowCalls == 2 && breaker.statistics.failures == 2 && breaker.statistics.successes == 1)
    }

    @Test func halfOpenLetsExactlyItsProbeLimitThroughUnder100Callers() async throws {
        let clock = ManualClock()
        let breaker = try breaker(
            { $0.consecutiveFailures = 1; $0.halfOpenMaxCalls = 3; $0.halfOpenSuccesses = 3; $0.openDuration = .seconds(1) },
            clock: clock)
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        clock.advance(by: .seconds(1))
        let entered = Shared()
        let release = Shared()
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    do {
                        try await breaker.run {
                            entered.count.add(1, ordering: .relaxed)
                            while !release.flag.load(ordering: .relaxed) { await Task.yield() }
                        }
                        return true
                    } catch CircuitBreakerError.Code.halfOpenFull {
                        return false
                    }
                }
            }
            // Every caller has asked once the 97 rejections are in.
            while breaker.statistics.notPermitted < 97 { await Task.yield() }
            release.flag.store(true, ordering: .relaxed)
            var outcomes: [Bool] = []
            for try await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        #expect(entered.count.load(ordering: .relaxed) == 3)
        #expect(outcomes.filter { $0 }.count == 3)
        #expect(breaker.state == .closed, "3 successful probes close it")
    }

    @Test func theClassifierDecidesWhatIsAFailure() async throws {
        let breaker = try breaker {
            $0.consecutiveFailures = 2
            $0.isFailure = { !($0 is NotFound) }
            $0.isIgnored = { $0 is Validation }
        }
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        await #expect(throws: Validation.self) { try await breaker.run { throw Validation() } }
        #expect(breaker.statistics.consecutiveFailures == 1, "an ignored error leaves the count alone")
        await #expect(throws: NotFound.self) { try await breaker.run { throw NotFound() } }
        #expect(breaker.statistics.consecutiveFailures == 0, "a 404 is an answer: a success")
        #expect(breaker.statistics.ignored == 1 && breaker.statistics.successes == 1 && breaker.statistics.failures == 1)
    }

    @Test func cancellationIsNeitherSuccessNorFailure() async throws {
        let clock = ManualClock()
        let breaker = try breaker({ $0.consecutiveFailures = 1; $0.openDuration = .seconds(1) }, clock: clock)
        await #expect(throws: CancellationError.self) { try await breaker.run { throw CancellationError() } }
        #expect(breaker.state == .closed && breaker.statistics.calls == 0 && breaker.statistics.ignored == 1)
        // A cancelled probe frees its slot.
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        clock.advance(by: .seconds(1))
        await #expect(throws: CancellationError.self) { try await breaker.run { throw CancellationError() } }
        #expect(breaker.state == .halfOpen)
        try await breaker.run(succeeding)
        #expect(breaker.state == .closed)
    }

    @Test func aCallAdmittedBeforeATripDoesNotCountAfterIt() async throws {
        let breaker = try breaker { $0.consecutiveFailures = 1 }
        let early = try breaker.permit()
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        #expect(breaker.state == .open)
        early.failure(Outage())  // admitted while closed, ends while open: counted, changes nothing
        #expect(breaker.statistics.failures == 2 && breaker.statistics.trips == 1)
    }

    @Test func aDroppedPermitFreesItsProbeSlot() async throws {
        let clock = ManualClock()
        let breaker = try breaker({ $0.consecutiveFailures = 1; $0.openDuration = .seconds(1) }, clock: clock)
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        clock.advance(by: .seconds(1))
        do {
            let permit = try breaker.permit()
            _ = consume permit
        }
        #expect(throws: Never.self) { try breaker.permit().success() }
        #expect(breaker.state == .closed)
    }

    @Test func transitionsArriveOnTheStream() async throws {
        let breaker = try breaker { $0.consecutiveFailures = 1 }
        let stream = breaker.transitions
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        breaker.reset()
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next() == CircuitBreakerTransition(name: "rpc", from: .closed, to: .open))
        #expect(await iterator.next()?.description == "rpc: open -> closed")
    }

    @Test func registryBreakersAreIndependent() async throws {
        var strict = CircuitBreakerConfiguration()
        strict.consecutiveFailures = 1
        let registry = try CircuitBreakerRegistry(overrides: ["eth_getLogs": strict], clock: ManualClock())
        await #expect(throws: Outage.self) { try await registry.breaker("eth_getLogs").run(failing) }
        #expect(registry.breaker("eth_getLogs").state == .open)
        #expect(registry.breaker("eth_blockNumber").state == .closed)
        #expect(registry.breaker("eth_getLogs") === registry.breaker("eth_getLogs"))
        #expect(registry.names == ["eth_blockNumber", "eth_getLogs"])
    }

    @Test func metricsArePublishedWithTheBreakerDimension() async throws {
        let metrics = TestMetrics()
        var configuration = CircuitBreakerConfiguration()
        configuration.consecutiveFailures = 1
        let breaker = try CircuitBreaker(name: "okx", configuration: configuration, clock: ManualClock(), metricsFactory: metrics)
        let dimensions = [("breaker", "okx")]
        await #expect(throws: Outage.self) { try await breaker.run(failing) }
        await #expect(throws: CircuitBreakerError.self) { try await breaker.run(succeeding) }
        breaker.publishMetrics()
        breaker.publishMetrics()
        #expect(try metrics.expectGauge("keel_breaker_state", dimensions).lastValue == 1)
        #expect(metrics.counterTotal(label: "keel_breaker_calls_total", dimensions: dimensions) == 1)
        #expect(metrics.counterTotal(label: "keel_breaker_failures_total", dimensions: dimensions) == 1)
        #expect(metrics.counterTotal(label: "keel_breaker_not_permitted_total", dimensions: dimensions) == 1)
        #expect(metrics.counterTotal(label: "keel_breaker_trips_total", dimensions: dimensions) == 1)
    }
}
