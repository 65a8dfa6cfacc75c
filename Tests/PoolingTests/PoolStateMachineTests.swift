import KeelTesting
import Testing

@testable import Pooling

/// The pool's logic alone: connections and waiters are plain integers, time is passed in.
@Suite struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine<Int, Int, ManualClock.Instant>

    static func at(_ seconds: Double) -> ManualClock.Instant {
        ManualClock.Instant(offset: .milliseconds(Int64(seconds * 1000)))
    }

    static let here = LeaseLocation(file: "Test.swift", line: 1)

    static func machine(_ configure: (inout PoolConfiguration) -> Void = { _ in }) -> Machine {
        var configuration = PoolConfiguration()
        configuration.validation = .never
        configure(&configuration)
        return Machine(settings: configuration, seed: 42)
    }

    /// Opens `count` connections numbered from `first` by requesting and completing attempts.
    static func open(_ count: Int, in machine: inout Machine, first: Int = 100, now: ManualClock.Instant = at(0)) {
        for index in 0..<count {
            _ = machine.connectionCreated(first + index, now: now)
        }
    }

    static func lease(_ machine: inout Machine, now: ManualClock.Instant = at(0)) -> Machine.Lease? {
        if case .leased(let lease) = machine.leaseRequested(waiter: nil, requestID: 0, deadline: nil, location: here, now: now) {
            return lease
        }
        return nil
    }

    @discardableResult
    static func wait(_ machine: inout Machine, waiter: Int, now: ManualClock.Instant = at(0), deadline: ManualClock.Instant? = nil)
        -> Machine.LeaseDecision
    {
        machine.leaseRequested(waiter: waiter, requestID: waiter, deadline: deadline, location: here, now: now)
    }

    @Test func idleConnectionsAreReusedLastInFirstOut() throws {
        var machine = Self.machine()
        Self.open(2, in: &machine)
        let a = try #require(Self.lease(&machine))
        let b = try #require(Self.lease(&machine))
        _ = machine.released(a, health: .healthy, now: Self.at(1))
        _ = machine.released(b, health: .healthy, now: Self.at(2))
        #expect(Self.lease(&machine)?.connection == b.connection, "the most recently returned comes first")
        #expect(machine.statistics.idle == 1 && machine.statistics.inUse == 1)
    }

    @Test func withLongestIdleFirstLeasesGoRoundTheConnections() throws {
        var machine = Self.machine { $0.reuseOrder = .longestIdleFirst }
        Self.open(3, in: &machine)
        var order: [Int] = []
        for second in 1...6 {
            let lease = try #require(Self.lease(&machine, now: Self.at(Double(second))))
            order.append(lease.connection)
            _ = machine.released(lease, health: .healthy, now: Self.at(Double(second)))
        }
        #expect(order == [100, 101, 102, 100, 101, 102], "each lease takes the connection idle the longest")
        #expect(machine.statistics.idle == 3)
    }

    @Test func waitersAreServedFirstInFirstOut() throws {
        var machine = Self.machine { $0.maxConnections = 1 }
        Self.open(1, in: &machine)
        var lease = try #require(Self.lease(&machine))
        #expect(machine.leaseRequested(waiter: nil, requestID: 0, deadline: nil, location: Self.here, now: Self.at(0)).isMustWait)
        for waiter in 1...3 { Self.wait(&machine, waiter: waiter, now: Self.at(Double(waiter))) }
        #expect(machine.statistics.waiting == 3)
        var served: [Int] = []
        for step in 1...3 {
            let actions = machine.released(lease, health: .healthy, now: Self.at(10 + Double(step)))
            let handOver = try #require(actions.handOver)
            served.append(handOver.waiter)
            lease = handOver.lease
        }
        #expect(served == [1, 2, 3])
        let statistics = machine.statistics
        #expect(statistics.waitCount == 3)
        #expect(statistics.totalWaitDuration == .seconds(10 + 10 + 10))
        #expect(statistics.waiting == 0)
    }

    @Test func aNewRequestQueuesBehindWaitersEvenWhenAConnectionIsIdle() throws {
        var machine = Self.machine { $0.maxConnections = 2 }
        Self.open(1, in: &machine)
        let lease = try #require(Self.lease(&machine))
        Self.wait(&machine, waiter: 1)  // starts one attempt
        let actions = machine.released(lease, health: .healthy, now: Self.at(1))
        #expect(actions.handOver?.waiter == 1)
    }

    @Test func connectionAttemptsAreBoundedAndSizedToDemand() {
        var machine = Self.machine {
            $0.maxConnections = 10
            $0.maxConcurrentConnectionAttempts = 2
        }
        var started = 0
        for waiter in 1...5 {
            if case .enqueued(let count) = Self.wait(&machine, waiter: waiter) { started += count }
        }
        #expect(started == 2, "at most two attempts in flight however many wait")
        let actions = machine.connectionCreated(1, now: Self.at(1))
        #expect(actions.handOver?.waiter == 1)
        #expect(actions.createConnections == 1, "one attempt finished, so one more may start")
        #expect(machine.connecting == 2)
    }

    @Test func minConnectionsAreOpenedAndRefilled() throws {
        var machine = Self.machine { $0.minConnections = 3 }
        let start = machine.timerFired(now: Self.at(0))
        #expect(start.actions.createConnections == 2, "bounded by maxConcurrentConnectionAttempts")
        let first = machine.connectionCreated(1, now: Self.at(0))
        #expect(first.createConnections == 1, "an attempt finished: the third may start")
        _ = machine.connectionCreated(2, now: Self.at(0))
        _ = machine.connectionCreated(3, now: Self.at(0))
        #expect(machine.timerFired(now: Self.at(0)).actions.createConnections == 0)
        #expect(machine.statistics.open == 3)
        let lease = try #require(Self.lease(&machine))
        let broken = machine.released(lease, health: .broken, now: Self.at(1))
        #expect(broken.closes.map(\.reason) == [.broken])
        #expect(broken.createConnections == 1, "a closed connection below the minimum is replaced")
    }

    @Test func withoutAnOverflowIdleTimeoutOverflowClosesWhenMaxAreIdle() throws {
        var machine = Self.machine {
            $0.maxConnections = 1
            $0.maxOverflow = 1
            $0.overflowIdleTimeout = nil
        }
        Self.open(1, in: &machine)
        let first = try #require(Self.lease(&machine))
        guard case .enqueued(let attempts) = Self.wait(&machine, waiter: 7) else {
            Issue.record("expected to wait")
            return
        }
        #expect(attempts == 1)
        let created = machine.connectionCreated(200, now: Self.at(1))
        let overflowLease = try #require(created.handOver?.lease)
        #expect(machine.statistics.overflowInUse == 1)
        #expect(machine.statistics.open == 2)
        #expect(Self.wait(&machine, waiter: 8).createCount == 0, "max + overflow reached")
        let returned = machine.released(overflowLease, health: .healthy, now: Self.at(2))
        #expect(returned.handOver?.waiter == 8, "a waiter takes it before it would close")
        // As SQLAlchemy's QueuePool: returned with no one waiting, a connection is kept while fewer
        // than maxConnections are idle, so under load the overflow serves the next leases.
        let again = machine.released(returned.handOver!.lease, health: .healthy, now: Self.at(3))
        #expect(again.closes.isEmpty)
        #expect(machine.statistics.idle == 1 && machine.statistics.open == 2 && machine.statistics.overflowInUse == 0)
        let reused = try #require(Self.lease(&machine))
        #expect(reused.connection == 200, "the kept connection serves the next lease, no new connect")
        _ = machine.released(reused, health: .healthy, now: Self.at(4))
        // The load falls: with maxConnections idle, the next connection returned closes.
        let last = machine.released(first, health: .healthy, now: Self.at(5))
        #expect(last.closes.map(\.reason) == [.overflow])
        #expect(machine.statistics.closed(.overflow) == 1)
        #expect(machine.statistics.open == 1 && machine.statistics.idle == 1)
    }

    @Test func withoutAnOverflowIdleTimeoutAConnectionOpenedWithNoOneWaitingIsKeptUnlessMaxAreIdle() throws {
        var machine = Self.machine {
            $0.maxConnections = 1
            $0.maxOverflow = 2
            $0.overflowIdleTimeout = nil
        }
        Self.open(1, in: &machine)
        let first = try #require(Self.lease(&machine))
        guard case .enqueued = Self.wait(&machine, waiter: 7) else {
            Issue.record("expected to wait")
            return
        }
        // The waiter is served by the returned connection before the new one is open.
        let returned = machine.released(first, health: .healthy, now: Self.at(1))
        let served = try #require(returned.handOver?.lease)
        let opened = machine.connectionCreated(300, now: Self.at(2))
        #expect(opened.closes.isEmpty, "kept idle: nothing else is idle")
        #expect(machine.statistics.idle == 1 && machine.statistics.open == 2)
        // With maxConnections idle, the served connection's return closes it.
        let back = machine.released(served, health: .healthy, now: Self.at(3))
        #expect(back.closes.map(\.reason) == [.overflow])
        #expect(machine.statistics.open == 1)
    }

    @Test func overflowConnectionsCloseOnceIdleForTheOverflowIdleTimeout() throws {
        var machine = Self.machine {
            $0.maxConnections = 1
            $0.maxOverflow = 1
            $0.overflowIdleTimeout = .seconds(1)
            $0.idleTimeout = nil
        }
        Self.open(1, in: &machine)
        let first = try #require(Self.lease(&machine))
        guard case .enqueued = Self.wait(&machine, waiter: 7) else {
            Issue.record("expected to wait")
            return
        }
        let overflow = try #require(machine.connectionCreated(200, now: Self.at(0)).handOver?.lease)
        // Both come back with no one waiting: both stay open, for the next burst.
        #expect(machine.released(first, health: .healthy, now: Self.at(1)).closes.isEmpty)
        #expect(machine.released(overflow, health: .healthy, now: Self.at(2)).closes.isEmpty)
        #expect(machine.statistics.idle == 2 && machine.statistics.open == 2)
        // The sweep before the timeout closes nothing and asks to wake when the coldest is due.
        let early = machine.timerFired(now: Self.at(1.999))
        #expect(early.actions.closes.isEmpty)
        #expect(early.nextDeadline == Self.at(2))
        // Then the coldest idle connection closes, down to maxConnections.
        let due = machine.timerFired(now: Self.at(3))
        #expect(due.actions.closes.map(\.reason) == [.overflow])
        #expect(due.actions.closes.map(\.connection) == [100], "the coldest: returned first")
        #expect(machine.statistics.open == 1 && machine.statistics.closed(.overflow) == 1)
    }

    @Test func waitersTimeOutAtTheirDeadline() {
        var machine = Self.machine {
            $0.maxConnections = 1
            $0.acquireTimeout = .seconds(30)
        }
        Self.open(1, in: &machine)
        _ = Self.lease(&machine)
        Self.wait(&machine, waiter: 1, now: Self.at(0))
        Self.wait(&machine, waiter: 2, now: Self.at(10))
        Self.wait(&machine, waiter: 3, now: Self.at(0), deadline: Self.at(5))
        let early = machine.timerFired(now: Self.at(5))
        #expect(early.actions.failures.map(\.waiter) == [3])
        #expect(early.nextDeadline == Self.at(30))
        let later = machine.timerFired(now: Self.at(30))
        #expect(later.actions.failures.map(\.waiter) == [1])
        guard case .acquireTimeout(let waited) = later.actions.failures.first?.failure else {
            Issue.record("expected an acquire timeout")
            return
        }
        #expect(waited == .seconds(30))
        #expect(machine.statistics.timeouts == 2)
        #expect(machine.statistics.waiting == 1)
    }

    @Test func aDeadlineInThePastFailsAtOnce() {
        var machine = Self.machine { $0.maxConnections = 1 }
        Self.open(1, in: &machine)
        _ = Self.lease(&machine)
        guard case .failed(.acquireTimeout) = Self.wait(&machine, waiter: 1, now: Self.at(5), deadline: Self.at(5)) else {
            Issue.record("expected an immediate timeout")
            return
        }
        #expect(machine.statistics.timeouts == 1)
    }

    @Test func idleConnectionsCloseAfterIdleTimeoutOldestFirstKeepingTheMinimum() throws {
        var machine = Self.machine {
            $0.minConnections = 1
            $0.idleTimeout = .seconds(60)
            $0.maxLifetime = nil
        }
        Self.open(3, in: &machine)
        let a = try #require(Self.lease(&machine))
        let b = try #require(Self.lease(&machine))
        let c = try #require(Self.lease(&machine))
        _ = machine.released(a, health: .healthy, now: Self.at(10))
        _ = machine.released(b, health: .healthy, now: Self.at(20))
        _ = machine.released(c, health: .healthy, now: Self.at(30))
        let first = machine.timerFired(now: Self.at(70))
        #expect(first.actions.closes.map(\.connection) == [a.connection])
        #expect(first.nextDeadline == Self.at(80))
        let second = machine.timerFired(now: Self.at(200))
        #expect(second.actions.closes.map(\.connection) == [b.connection], "the minimum of one stays open")
        #expect(machine.statistics.closed(.idle) == 2)
    }

    @Test func idleTimeoutNeverClosesALeasedConnection() throws {
        var machine = Self.machine {
            $0.idleTimeout = .seconds(60)
            $0.maxLifetime = nil
        }
        Self.open(1, in: &machine)
        let lease = try #require(Self.lease(&machine))
        #expect(machine.timerFired(now: Self.at(1000)).actions.closes.isEmpty)
        _ = machine.released(lease, health: .healthy, now: Self.at(1000))
        #expect(machine.statistics.idle == 1)
    }

    @Test func maxLifetimeRecyclesIdleConnectionsAndLeasedOnesOnReturn() throws {
        var machine = Self.machine {
            $0.maxLifetime = .seconds(1000)
            $0.maxLifetimeJitter = 0.1
            $0.idleTimeout = nil
        }
        Self.open(2, in: &machine)
        let leased = try #require(Self.lease(&machine))
        let sweep = machine.timerFired(now: Self.at(1000))
        #expect(sweep.actions.closes.map(\.reason) == [.lifetime], "the idle one closes, the leased one does not")
        #expect(machine.statistics.open == 1)
        let back = machine.released(leased, health: .healthy, now: Self.at(1001))
        #expect(back.closes.map(\.connection) == [leased.connection])
        #expect(machine.statistics.closed(.lifetime) == 2)
    }

    @Test func maxLifetimeIsJitteredSoConnectionsDoNotRecycleTogether() {
        var machine = Self.machine {
            $0.maxConnections = 50
            $0.maxLifetime = .seconds(1000)
            $0.maxLifetimeJitter = 0.1
            $0.idleTimeout = nil
        }
        Self.open(50, in: &machine)
        #expect(machine.timerFired(now: Self.at(899.999)).actions.closes.isEmpty, "never earlier than lifetime minus jitter")
        let midway = machine.timerFired(now: Self.at(950)).actions.closes.count
        #expect(midway > 5 && midway < 45, "spread over the jitter window, not all at once")
        let end = machine.timerFired(now: Self.at(1000)).actions.closes.count
        #expect(midway + end == 50)
    }

    @Test func validationFollowsThePolicy() throws {
        var always = Self.machine { $0.validation = .always }
        Self.open(1, in: &always)
        guard case .validate(let lease) = always.leaseRequested(waiter: nil, requestID: 0, deadline: nil, location: Self.here, now: Self.at(0)) else {
            Issue.record("always validates")
            return
        }
        _ = always.validationFinished(lease, succeeded: true, now: Self.at(0))
        #expect(always.statistics.inUse == 1)

        var idleFor = Self.machine { $0.validation = .whenIdleFor(.seconds(5)) }
        Self.open(1, in: &idleFor)
        let first = try #require(Self.lease(&idleFor, now: Self.at(1)), "idle for 1 s: no validation")
        _ = idleFor.connectionReleased(first, health: .healthy, now: Self.at(1))
        #expect(Self.lease(&idleFor, now: Self.at(7)) == nil, "idle for 6 s: validate first")
    }

    @Test func aConnectionFailingValidationIsClosedAndReplaced() throws {
        var machine = Self.machine {
            $0.validation = .always
            $0.minConnections = 1
        }
        Self.open(1, in: &machine)
        guard case .validate(let lease) = machine.leaseRequested(waiter: nil, requestID: 0, deadline: nil, location: Self.here, now: Self.at(0)) else {
            Issue.record("expected a validation")
            return
        }
        let actions = machine.validationFinished(lease, succeeded: false, now: Self.at(0))
        #expect(actions.closes.map(\.reason) == [.broken])
        #expect(actions.createConnections == 1)
        #expect(machine.statistics.open == 0)
    }

    @Test func serverGoneMakesOlderIdleConnectionsValidateBeforeUse() throws {
        var machine = Self.machine { $0.validation = .never }
        Self.open(2, in: &machine, first: 1, now: Self.at(0))
        Self.open(1, in: &machine, first: 3, now: Self.at(50))
        // Lease the newest (LIFO), then a second; one old connection stays idle.
        let newest = try #require(Self.lease(&machine))
        #expect(newest.connection == 3)
        let old = try #require(Self.lease(&machine))
        _ = machine.released(old, health: .healthy, now: Self.at(60))
        let gone = machine.released(newest, health: .serverGone, now: Self.at(61))
        #expect(gone.closes.map(\.connection) == [3])
        guard case .validate(let revalidated) = machine.leaseRequested(waiter: nil, requestID: 0, deadline: nil, location: Self.here, now: Self.at(62)) else {
            Issue.record("an idle connection older than the one that saw the server go must be validated")
            return
        }
        #expect(revalidated.connection == old.connection)
    }

    @Test func failedAttemptsBackOffAndOnlyWaitersWithNoAttemptDueBeforeTheirDeadlineFail() throws {
        struct Down: Error {}
        var machine = Self.machine {
            $0.connectRetryDelay = .seconds(1)
            $0.maxConnectRetryDelay = .seconds(8)
        }
        // Waiter 1 may wait 0.5 s, waiter 2 thirty seconds.
        Self.wait(&machine, waiter: 1, deadline: Self.at(0.5))
        Self.wait(&machine, waiter: 2, deadline: Self.at(30))
        #expect(machine.connecting == 2)
        let first = machine.connectionFailed(Down(), now: Self.at(0))
        #expect(first.failures.isEmpty, "another attempt is still in flight")
        let second = machine.connectionFailed(Down(), now: Self.at(0))
        // The next attempt is 1-2 s away: waiter 1 cannot be served before its deadline, 2 can.
        #expect(second.failures.map(\.waiter) == [1], "nothing open, nothing connecting, no attempt in time: fail with the error")
        #expect(machine.statistics.waiting == 1)
        #expect(machine.lastConnectionError is Down)

        guard case .failed(.connectionUnavailable) = Self.wait(&machine, waiter: 3, now: Self.at(0.1), deadline: Self.at(0.6)) else {
            Issue.record("fail at once when no attempt is due before the deadline")
            return
        }
        guard case .enqueued(let none) = Self.wait(&machine, waiter: 4, now: Self.at(0.1), deadline: Self.at(30)) else {
            Issue.record("wait for the attempt due before the deadline")
            return
        }
        #expect(none == 0, "no attempt before the back-off")
        // The maintenance timer starts the attempt after the back-off (at most 2 s after two failures).
        let retry = machine.timerFired(now: Self.at(2))
        #expect(retry.actions.createConnections == 2, "one attempt for each of waiters 2 and 4")
        let recovered = machine.connectionCreated(1, now: Self.at(2.5))
        #expect(recovered.handOver?.waiter == 2, "the first waiter left is served first")
        #expect(machine.lastConnectionError == nil)
        #expect(machine.statistics.creationFailures == 2)
        #expect(machine.statistics.created == 1)
    }

    @Test func anAttemptThatTimedOutFailsEveryWaiterAtOnce() throws {
        struct Silent: Error {}
        var machine = Self.machine { $0.maxConcurrentConnectionAttempts = 1 }
        Self.wait(&machine, waiter: 1, deadline: Self.at(30))
        Self.wait(&machine, waiter: 2, deadline: Self.at(30))
        let failed = machine.connectionFailed(Silent(), timedOut: true, now: Self.at(2))
        #expect(failed.failures.map(\.waiter) == [1, 2], "the next attempt would wait as long: nobody waits for it")
        guard case .failed(.connectionUnavailable) = Self.wait(&machine, waiter: 3, now: Self.at(2.01), deadline: Self.at(40)) else {
            Issue.record("fail at once while attempts time out")
            return
        }
    }

    @Test func withoutWaitingForReconnectionARefusedAttemptFailsEveryWaiterAtOnce() throws {
        struct Refused: Error {}
        var machine = Self.machine {
            $0.maxConcurrentConnectionAttempts = 1
            $0.waitsForReconnection = false
        }
        Self.wait(&machine, waiter: 1, deadline: Self.at(30))
        let failed = machine.connectionFailed(Refused(), now: Self.at(0.01))
        #expect(failed.failures.map(\.waiter) == [1])
        guard case .failed(.connectionUnavailable) = Self.wait(&machine, waiter: 2, now: Self.at(0.02), deadline: Self.at(30)) else {
            Issue.record("fail at once while backing off")
            return
        }
    }

    @Test func aWaiterWhoseDeadlinePassesWhileConnectingFailsIsToldTheDatabaseIsUnavailable() throws {
        struct Down: Error {}
        var machine = Self.machine {
            $0.connectRetryDelay = .milliseconds(100)
            $0.maxConnectRetryDelay = .milliseconds(100)
            $0.maxConcurrentConnectionAttempts = 1
        }
        Self.wait(&machine, waiter: 1, deadline: Self.at(1))
        _ = machine.connectionFailed(Down(), now: Self.at(0.85))
        #expect(machine.statistics.waiting == 1, "an attempt is due before 0.95 s, before the deadline")
        let timedOut = machine.timerFired(now: Self.at(1))
        guard case .connectionUnavailable? = timedOut.actions.failures.first?.failure else {
            Issue.record("a lease that waited for a failing database fails as connectionUnavailable, not acquireTimeout")
            return
        }
    }

    @Test func backOffDoublesWithJitterUpToTheMaximum() {
        struct Down: Error {}
        var machine = Self.machine {
            $0.minConnections = 1
            $0.maxConcurrentConnectionAttempts = 1
            $0.connectRetryDelay = .seconds(1)
            $0.maxConnectRetryDelay = .seconds(8)
        }
        var now = Self.at(0)
        _ = machine.timerFired(now: now)
        var delays: [Duration] = []
        for _ in 0..<6 {
            _ = machine.connectionFailed(Down(), now: now)
            let next = try! #require(machine.timerFired(now: now).nextDeadline)
            delays.append(now.duration(to: next))
            now = next
            #expect(machine.timerFired(now: now).actions.createConnections == 1)
        }
        let caps: [Duration] = [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8), .seconds(8)]
        for (delay, cap) in zip(delays, caps) {
            #expect(delay >= cap / 2 && delay <= cap, "\(delay) within [\(cap / 2), \(cap)]")
        }
    }

    @Test func aCancelledWaiterLeavesTheQueueUnlessAlreadyServed() throws {
        var machine = Self.machine { $0.maxConnections = 1 }
        Self.open(1, in: &machine)
        let lease = try #require(Self.lease(&machine))
        Self.wait(&machine, waiter: 1)
        Self.wait(&machine, waiter: 2)
        #expect(machine.waiterCancelled(requestID: 1) == 1)
        #expect(machine.statistics.waiting == 1)
        let actions = machine.released(lease, health: .healthy, now: Self.at(1))
        #expect(actions.handOver?.waiter == 2)
        #expect(machine.waiterCancelled(requestID: 2) == nil, "already handed a connection: it must release it")
    }

    @Test func leaseHeldPastTheThresholdIsReportedOnce() throws {
        var machine = Self.machine { $0.leakDetectionThreshold = .seconds(10) }
        Self.open(1, in: &machine)
        let location = LeaseLocation(file: "App/Handler.swift", line: 42)
        guard case .leased = machine.leaseRequested(waiter: nil, requestID: 0, deadline: nil, location: location, now: Self.at(0)) else {
            Issue.record("expected a lease")
            return
        }
        let early = machine.timerFired(now: Self.at(5))
        #expect(early.actions.leaks.isEmpty)
        #expect(early.nextDeadline == Self.at(10))
        let late = machine.timerFired(now: Self.at(11))
        #expect(late.actions.leaks.count == 1)
        #expect(late.actions.leaks.first?.location.description == "App/Handler.swift:42")
        #expect(late.actions.leaks.first?.heldFor == .seconds(11))
        #expect(machine.timerFired(now: Self.at(30)).actions.leaks.isEmpty, "reported once")
    }

    @Test func shutdownFailsWaitersClosesIdleAndWaitsForLeases() throws {
        var machine = Self.machine { $0.maxConnections = 2 }
        Self.open(2, in: &machine)
        let lease = try #require(Self.lease(&machine))
        _ = try #require(Self.lease(&machine))
        Self.wait(&machine, waiter: 1)
        let actions = machine.shutdownRequested(now: Self.at(0))
        #expect(actions.failures.map(\.waiter) == [1])
        #expect(!actions.shutdownCompleted)
        guard case .failed(.shutdown) = Self.wait(&machine, waiter: 2) else {
            Issue.record("no leases after shutdown")
            return
        }
        let back = machine.released(lease, health: .healthy, now: Self.at(1))
        #expect(back.closes.map(\.reason) == [.shutdown])
        #expect(!back.shutdownCompleted)
        // The other lease never comes back: the grace period (30 s) ends it.
        #expect(machine.timerFired(now: Self.at(10)).actions.closes.isEmpty)
        let forced = machine.timerFired(now: Self.at(30))
        #expect(forced.actions.closes.map(\.reason) == [.shutdown])
        #expect(forced.actions.shutdownCompleted)
        #expect(machine.isShutDown)
        #expect(machine.statistics.closed(.shutdown) == 2)
        #expect(machine.statistics.open == 0)
    }

    @Test func aConnectionOpenedDuringShutdownIsClosed() {
        var machine = Self.machine()
        Self.wait(&machine, waiter: 1)
        _ = machine.shutdownRequested(now: Self.at(0))
        let actions = machine.connectionCreated(9, now: Self.at(1))
        #expect(actions.closes.map(\.connection) == [9])
        #expect(actions.shutdownCompleted)
    }
}

extension PoolStateMachine {
    /// `connectionReleased`, with "went back to the idle set" as empty actions.
    mutating func released(_ lease: Lease, health: ConnectionHealth, now: Instant) -> Actions {
        connectionReleased(lease, health: health, now: now) ?? Actions()
    }
}

extension PoolStateMachine.LeaseDecision {
    var isMustWait: Bool {
        if case .mustWait = self { return true }
        return false
    }

    var createCount: Int? {
        if case .enqueued(let count) = self { return count }
        return nil
    }
}
