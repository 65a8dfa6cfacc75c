import KeelTesting
@testable import RedisRateLimit
import Testing

struct RedisLimiterStateMachineTests {
    typealias Machine = RedisLimiterStateMachine<ManualClock.Instant>
    let start = ManualClock.Instant(offset: .zero)

    @Test func aDenialIsServedLocallyUntilItsRetryAfterForCallsOfAtLeastItsCost() {
        var machine = Machine(probeInterval: .seconds(1))
        let answer1 = machine.plan(cost: 2, now: start)
        #expect(answer1 == .ask)
        let answer2 = machine.answered(cost: 2, wait: .milliseconds(300), now: start)
        #expect(answer2 == false)
        let until = start.advanced(by: .milliseconds(300))
        let answer3 = machine.plan(cost: 2, now: start.advanced(by: .milliseconds(100)))
        #expect(answer3 == .deniedUntil(until))
        let answer4 = machine.plan(cost: 3, now: start.advanced(by: .milliseconds(299)))
        #expect(answer4 == .deniedUntil(until))
        // A smaller call may fit where the denied one did not: Redis decides it.
        let answer5 = machine.plan(cost: 1, now: start.advanced(by: .milliseconds(100)))
        #expect(answer5 == .ask)
        let answer6 = machine.plan(cost: 2, now: until)
        #expect(answer6 == .ask)
        #expect(machine.statistics.denied == 1)
        #expect(machine.statistics.deniedLocally == 2)
    }

    @Test func anOutageLetsOneProbeThroughPerIntervalAndEndsWithTheFirstAnswer() {
        var machine = Machine(probeInterval: .seconds(1))
        let answer7 = machine.failed(now: start)
        #expect(answer7 == true)
        #expect(machine.statistics.isRedisReachable == false)
        let answer8 = machine.plan(cost: 1, now: start.advanced(by: .milliseconds(999)))
        #expect(answer8 == .followPolicy)
        let probeTime = start.advanced(by: .seconds(1))
        let answer9 = machine.plan(cost: 1, now: probeTime)
        #expect(answer9 == .ask)
        // While the probe is out, the others follow the policy.
        let answer10 = machine.plan(cost: 1, now: probeTime)
        #expect(answer10 == .followPolicy)
        let answer11 = machine.failed(now: probeTime)
        #expect(answer11 == false)
        let answer12 = machine.plan(cost: 1, now: probeTime.advanced(by: .milliseconds(500)))
        #expect(answer12 == .followPolicy)
        let answer13 = machine.plan(cost: 1, now: probeTime.advanced(by: .seconds(1)))
        #expect(answer13 == .ask)
        let answer14 = machine.answered(cost: 1, wait: nil, now: probeTime.advanced(by: .seconds(1)))
        #expect(answer14 == true)
        let answer15 = machine.plan(cost: 1, now: probeTime.advanced(by: .seconds(1)))
        #expect(answer15 == .ask)
        #expect(machine.statistics.outages == 1)
        #expect(machine.statistics.failures == 2)
        #expect(machine.statistics.allowed == 1)
        #expect(machine.statistics.isRedisReachable)
    }

    @Test func aNewOutageAfterRecoveryIsCountedAgain() {
        var machine = Machine(probeInterval: .seconds(1))
        let answer16 = machine.failed(now: start)
        #expect(answer16)
        let answer17 = machine.answered(cost: 1, wait: nil, now: start.advanced(by: .seconds(1)))
        #expect(answer17)
        let answer18 = machine.failed(now: start.advanced(by: .seconds(2)))
        #expect(answer18)
        #expect(machine.statistics.outages == 2)
    }
}
