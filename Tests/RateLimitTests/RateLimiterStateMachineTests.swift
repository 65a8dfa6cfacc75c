@testable import RateLimit
import Testing

@Suite struct RateLimiterStateMachineTests {
    typealias Machine = RateLimiterStateMachine<String, ContinuousClock.Instant>
    let start = ContinuousClock.now

    func at(_ seconds: Int) -> ContinuousClock.Instant { start.advanced(by: .seconds(seconds)) }

    @Test func aWaiterWhoseDeadlinePassesLeavesTheQueueCounted() {
        var machine = Machine(maxConcurrent: 1, minInterval: .zero)
        guard case .granted = machine.acquire(waiter: nil, requestID: 0, now: at(0)) else { Issue.record("a free permit"); return }
        guard case .enqueued = machine.acquire(waiter: "late", requestID: 1, now: at(0), deadline: at(5)) else {
            Issue.record("queued behind the holder")
            return
        }
        #expect(machine.deadlinePassed(requestID: 1) == "late")
        #expect(machine.deadlinePassed(requestID: 1) == nil, "once only")
        #expect(machine.cancelled(requestID: 1) == nil)
        #expect(machine.statistics.timeouts == 1 && machine.statistics.cancellations == 0 && machine.statistics.queued == 0)
        let released = machine.released(now: at(6))
        #expect(released == nil, "nobody waits")
        #expect(machine.statistics.inFlight == 0)
    }

    @Test func aReleasePassesOverWaitersItCannotStartInTime() throws {
        var machine = Machine(maxConcurrent: 1, minInterval: .seconds(10))
        guard case .granted(let first) = machine.acquire(waiter: nil, requestID: 0, now: at(0)) else { Issue.record("granted"); return }
        #expect(first == at(0))
        _ = machine.acquire(waiter: "hurried", requestID: 1, now: at(1), deadline: at(5))
        _ = machine.acquire(waiter: "patient", requestID: 2, now: at(1), deadline: at(30))
        let released = machine.released(now: at(2))
        let release = try #require(released)
        #expect(release.timedOut == ["hurried"], "the next start (10 s) is past its deadline (5 s)")
        #expect(release.next?.waiter == "patient" && release.next?.startAt == at(10))
        #expect(machine.statistics.timeouts == 1 && machine.statistics.acquired == 2 && machine.statistics.inFlight == 1)
    }

    @Test func aFreePermitWhoseStartIsPastTheDeadlineIsNotTaken() {
        var machine = Machine(maxConcurrent: 2, minInterval: .seconds(10))
        _ = machine.acquire(waiter: nil, requestID: 0, now: at(0))
        guard case .timedOut = machine.acquire(waiter: nil, requestID: 0, now: at(1), deadline: at(5)) else {
            Issue.record("the next start is at 10 s")
            return
        }
        #expect(machine.statistics.inFlight == 1 && machine.statistics.timeouts == 1)
        guard case .granted(let startAt) = machine.acquire(waiter: nil, requestID: 0, now: at(1), deadline: at(10)) else {
            Issue.record("a start at the deadline is in time")
            return
        }
        #expect(startAt == at(10))
    }

    @Test func cancellationsAreCountedByTheMachine() {
        var machine = Machine(maxConcurrent: 1, minInterval: .zero)
        _ = machine.acquire(waiter: nil, requestID: 0, now: at(0))
        _ = machine.acquire(waiter: "waiting", requestID: 1, now: at(0))
        #expect(machine.cancelled(requestID: 1) == "waiting")
        _ = machine.released(now: at(1), cancelled: true)
        #expect(machine.statistics.cancellations == 2 && machine.statistics.inFlight == 0)
    }

    @Test func theFastPathTakesOnlyAFreePermitWithNoIntervalAndNobodyWaiting() {
        var spaced = Machine(maxConcurrent: 2, minInterval: .seconds(1))
        let spacedTaken = spaced.acquireIfFree()
        #expect(!spacedTaken, "an interval needs the time")
        #expect(spaced.statistics.inFlight == 0 && spaced.statistics.acquired == 0)

        var machine = Machine(maxConcurrent: 1, minInterval: .zero)
        let first = machine.acquireIfFree()
        let second = machine.acquireIfFree()
        #expect(first && !second, "one permit")
        _ = machine.acquire(waiter: "next", requestID: 1, now: at(0))
        let releasedToNobody = machine.releaseIfNobodyWaits()
        #expect(!releasedToNobody, "the permit goes to the waiter")
        #expect(machine.statistics.inFlight == 1 && machine.statistics.queued == 1)
        let release = machine.released(now: at(1))
        #expect(release?.next?.waiter == "next")
        let whileHeld = machine.acquireIfFree()
        #expect(!whileHeld, "the waiter holds it now")
        let released = machine.releaseIfNobodyWaits()
        let again = machine.acquireIfFree()
        #expect(released && again, "free again, nobody waiting")
        #expect(machine.statistics.acquired == 3 && machine.statistics.inFlight == 1)
    }
}
