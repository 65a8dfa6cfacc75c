public import KeelCore
public import DequeModule

/// The pool's logic as a value: events (named in the past tense, or as requests) go in, actions
/// (commands for the shell) come out. No I/O, no clock reads, no locks: ``ConnectionPool`` owns
/// one under a lock (`Locked`), passes the time in, and runs the actions after unlocking.
///
/// Invariants:
/// - Waiters are served strictly first in, first out.
/// - Idle connections are reused last in, first out (the warmest first; the coldest time out).
/// - A leased connection is never closed for idleness or age; at most marked to close on return.
/// - `open + connecting` never exceeds `maxConnections + maxOverflow`.
/// - Connections beyond `maxConnections` close once idle for `overflowIdleTimeout`; without one,
///   a connection returned (or opened) with no one waiting when `maxConnections` are already idle
///   closes at once (SQLAlchemy's `QueuePool`).
@usableFromInline
struct PoolStateMachine<Connection: Sendable, Waiter, Instant: InstantProtocol> where Instant.Duration == Duration {
    /// A connection handed to a lease: where it lives in the machine, and the connection.
    @usableFromInline
    struct Lease: Sendable {
        @usableFromInline let slot: Int
        @usableFromInline let connectionID: Int
        @usableFromInline let connection: Connection

        @inlinable
        init(slot: Int, connectionID: Int, connection: Connection) {
            self.slot = slot
            self.connectionID = connectionID
            self.connection = connection
        }
    }

    /// What a lease request gets.
    @usableFromInline
    enum LeaseDecision {
        /// Use this connection now.
        case leased(Lease)
        /// Validate this idle connection, then report ``validationFinished(_:succeeded:now:)``.
        case validate(Lease)
        /// Nothing is free: call again with a waiter (only returned when no waiter was given).
        case mustWait
        /// Queued; start `createConnections` connection attempts.
        case enqueued(createConnections: Int)
        /// The lease fails at once.
        case failed(Failure)
    }

    /// Why a lease failed.
    @usableFromInline
    enum Failure: Sendable {
        case acquireTimeout(waited: Duration)
        case shutdown
        case connectionUnavailable
    }

    /// A connection the pool must close, and why.
    @usableFromInline
    struct Close: Sendable {
        let connection: Connection
        let reason: CloseReason
    }

    /// A lease held past the leak detection threshold.
    @usableFromInline
    struct LeakReport: Sendable {
        let connectionID: Int
        let heldFor: Duration
        let location: LeaseLocation
    }

    /// The commands an event leaves for the shell. Empty arrays do not allocate, so an event with
    /// nothing to do costs nothing.
    @usableFromInline
    struct Actions {
        /// A waiter to resume with a connection (a release, creation or validation handed it over).
        @usableFromInline var handOver: (waiter: Waiter, lease: Lease)?
        /// Waiters to fail.
        @usableFromInline var failures: [(waiter: Waiter, failure: Failure)] = []
        /// Connections to close.
        @usableFromInline var closes: [Close] = []
        /// Connection attempts to start.
        @usableFromInline var createConnections = 0
        /// Leases to log as probable leaks.
        @usableFromInline var leaks: [LeakReport] = []
        /// The shutdown has finished: no connection open or opening.
        @usableFromInline var shutdownCompleted = false
        /// A deadline earlier than the maintenance task's may have been added: wake it.
        @usableFromInline var wakeMaintenance = false

        @inlinable
        init() {}
    }

    @usableFromInline enum SlotState {
        /// No connection: the slot is on the free list.
        case free
        case idle
        case leased
        case validating
    }

    /// A connection's place in the pool. Slots are never optional (a closed one is `.free` with no
    /// connection), so the hot path can change a field in place without copying the slot.
    @usableFromInline struct Slot {
        @usableFromInline var connection: Connection?
        @usableFromInline var id: Int
        @usableFromInline var createdAt: Instant
        @usableFromInline var expiresAt: Instant?
        @usableFromInline var state: SlotState
        @usableFromInline var returnedAt: Instant
        @usableFromInline var leasedAt: Instant
        @usableFromInline var location: LeaseLocation
        @usableFromInline var leakReported = false
        /// The lifetime ran out while it was leased: close it when it comes back.
        @usableFromInline var closeOnReturn = false
        /// A newer connection found the server gone: validate before the next lease.
        @usableFromInline var mustValidate = false
    }

    @usableFromInline struct WaitingRequest {
        @usableFromInline let id: Int
        @usableFromInline let waiter: Waiter
        @usableFromInline let enqueuedAt: Instant
        @usableFromInline let deadline: Instant
        @usableFromInline let location: LeaseLocation

        @inlinable
        init(id: Int, waiter: Waiter, enqueuedAt: Instant, deadline: Instant, location: LeaseLocation) {
            self.id = id
            self.waiter = waiter
            self.enqueuedAt = enqueuedAt
            self.deadline = deadline
            self.location = location
        }
    }

    @usableFromInline enum Phase {
        case running
        case draining(deadline: Instant)
        case shutDown

        var isRunning: Bool {
            if case .running = self { return true }
            return false
        }
    }

    /// The limits and timeouts; the machine reads nothing else of the configuration.
    @usableFromInline let settings: PoolConfiguration
    @usableFromInline var phase = Phase.running {
        didSet { isRunning = phase.isRunning }
    }
    /// `phase == .running`, kept as a plain flag: the hot path checks it on every lease and
    /// release, and matching the enum (whose payload is a clock instant) costs a copy each time.
    @usableFromInline private(set) var isRunning = true
    @usableFromInline var slots: [Slot] = []
    @usableFromInline var freeSlots: [Int] = []
    /// Idle slot numbers; the last is the most recently returned.
    @usableFromInline var idle: [Int] = []
    @usableFromInline var waiters = Deque<WaitingRequest>()
    @usableFromInline var nextConnectionID = 0
    @usableFromInline var openCount = 0
    @usableFromInline var connecting = 0
    @usableFromInline var consecutiveFailures = 0
    @usableFromInline var retryAt: Instant?
    @usableFromInline var random: SplitMix64
    @usableFromInline var lastConnectionError: (any Error)?
    /// Whether the last failed attempt gave up waiting for an answer (rather than being refused).
    @usableFromInline var lastFailureTimedOut = false
    @usableFromInline var counters = PoolStatistics()

    init(settings: PoolConfiguration, seed: UInt64) {
        self.settings = settings
        random = SplitMix64(seed: seed)
    }

    // MARK: Leasing

    /// Removes and returns the idle connection ``PoolConfiguration/reuseOrder`` picks.
    @inlinable
    mutating func takeIdle() -> Int? {
        switch settings.reuseOrder {
        case .lastReturnedFirst: idle.popLast()
        case .longestIdleFirst: idle.isEmpty ? nil : idle.removeFirst()
        }
    }

    /// A task asks for a connection. Without a waiter, the answer is never `enqueued`: the caller
    /// creates its waiter and asks again only if told `mustWait`.
    ///
    /// `now` may be `nil` on the first ask when neither leak detection nor idle-based validation
    /// needs the time (saving a clock read per lease); a lease that must wait is then asked again
    /// with the time. A waiter always comes with the time.
    @inlinable
    mutating func leaseRequested(
        waiter: Waiter?, requestID: Int, deadline: Instant?, location: LeaseLocation, now: Instant?
    ) -> LeaseDecision {
        guard isRunning else { return .failed(.shutdown) }
        if waiters.isEmpty, let slotNumber = takeIdle() {
            return lease(slotNumber, location: location, now: now)
        }
        guard let now else { return .mustWait }
        let deadline = deadline ?? now.advanced(by: settings.acquireTimeout)
        if openCount == 0, connecting == 0, let retryAt, now < retryAt, lastConnectionError != nil,
            lastFailureTimedOut || !settings.waitsForReconnection || deadline <= retryAt
        {
            // Nothing open, connecting is failing, and no attempt is due before the deadline (or
            // attempts time out, so the next would take as long): fail now rather than wait.
            return .failed(.connectionUnavailable)
        }
        guard let waiter else { return .mustWait }
        if deadline <= now {
            counters.timeouts += 1
            return .failed(.acquireTimeout(waited: .zero))
        }
        waiters.append(WaitingRequest(id: requestID, waiter: waiter, enqueuedAt: now, deadline: deadline, location: location))
        return .enqueued(createConnections: connectionsToStart(now: now))
    }

    @inlinable
    mutating func lease(_ slotNumber: Int, location: LeaseLocation, now: Instant?) -> LeaseDecision {
        // Slots are mutated in place: copying one out and back costs more than the rest of a lease.
        let validate: Bool =
            switch settings.validation {
            case .never: slots[slotNumber].mustValidate
            case .always: true
            case .whenIdleFor(let threshold):
                // Without the time (the caller promised it is not needed), validate to be safe.
                slots[slotNumber].mustValidate
                    || now.map { slots[slotNumber].returnedAt.duration(to: $0) > threshold } ?? true
            }
        markLeased(slotNumber, location: location, now: now, state: validate ? .validating : .leased)
        let lease = Lease(slot: slotNumber, connectionID: slots[slotNumber].id, connection: slots[slotNumber].connection!)
        return validate ? .validate(lease) : .leased(lease)
    }

    @inlinable
    mutating func markLeased(_ slotNumber: Int, location: LeaseLocation, now: Instant?, state: SlotState) {
        slots[slotNumber].state = state
        if let now { slots[slotNumber].leasedAt = now }
        slots[slotNumber].location = location
        slots[slotNumber].leakReported = false
    }

    /// A validation asked for by `.validate` finished. On success the caller keeps the lease; on
    /// failure the connection is closed and the caller asks again.
    @usableFromInline
    mutating func validationFinished(_ lease: Lease, succeeded: Bool, now: Instant) -> Actions {
        guard slots[lease.slot].id == lease.connectionID, slots[lease.slot].state == .validating else {
            return Actions()
        }
        if succeeded {
            slots[lease.slot].state = .leased
            slots[lease.slot].mustValidate = false
            return Actions()
        }
        var actions = Actions()
        remove(lease.slot, reason: .broken, into: &actions)
        actions.createConnections = connectionsToStart(now: now)
        finishShutdownIfDone(&actions)
        return actions
    }

    /// A waiting task was cancelled. Returns its waiter to fail, or `nil` when it was already
    /// served (it then holds a lease it must release).
    @usableFromInline
    mutating func waiterCancelled(requestID: Int) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.id == requestID }) else { return nil }
        return waiters.remove(at: index).waiter
    }

    /// A lease came back. `health` is what the source says of the connection.
    /// Returns `nil` when the connection simply went back to the idle set (the common case, kept
    /// free of any `Actions` value), otherwise what to do.
    @inlinable
    mutating func connectionReleased(_ lease: Lease, health: ConnectionHealth, now: Instant) -> Actions? {
        let slotState = slots[lease.slot].state
        guard slots[lease.slot].id == lease.connectionID, slotState != .idle, slotState != .free else {
            return nil  // closed by a forced shutdown meanwhile
        }
        guard isRunning, health == .healthy, !slots[lease.slot].closeOnReturn,
            !(slots[lease.slot].expiresAt.map { $0 <= now } ?? false)
        else {
            return connectionReleasedForClosing(lease, health: health, now: now)
        }
        if let waiting = waiters.popFirst() {
            markLeased(lease.slot, location: waiting.location, now: now, state: .leased)
            counters.waitCount += 1
            counters.totalWaitDuration += waiting.enqueuedAt.duration(to: now)
            var actions = Actions()
            actions.handOver = (waiting.waiter, lease)
            return actions
        }
        if idle.count >= settings.maxConnections, settings.overflowIdleTimeout == nil {
            var actions = Actions()
            remove(lease.slot, reason: .overflow, into: &actions)
            return actions
        }
        slots[lease.slot].state = .idle
        slots[lease.slot].returnedAt = now
        idle.append(lease.slot)
        return nil
    }

    /// A lease came back to a connection that must close: shutdown, broken, server gone or expired.
    @usableFromInline
    mutating func connectionReleasedForClosing(_ lease: Lease, health: ConnectionHealth, now: Instant) -> Actions {
        var actions = Actions()
        if case .draining = phase {
            remove(lease.slot, reason: .shutdown, into: &actions)
            finishShutdownIfDone(&actions)
            return actions
        }
        switch health {
        case .healthy:
            remove(lease.slot, reason: .lifetime, into: &actions)
        case .broken:
            remove(lease.slot, reason: .broken, into: &actions)
        case .serverGone:
            // Idle connections opened before this one probably lost the same server.
            let createdAt = slots[lease.slot].createdAt
            for slotNumber in idle where slots[slotNumber].createdAt <= createdAt {
                slots[slotNumber].mustValidate = true
            }
            remove(lease.slot, reason: .broken, into: &actions)
        }
        actions.createConnections = connectionsToStart(now: now)
        return actions
    }

    // MARK: Connection attempts

    /// A connection attempt started by `createConnections` succeeded.
    mutating func connectionCreated(_ connection: Connection, now: Instant) -> Actions {
        connecting -= 1
        consecutiveFailures = 0
        retryAt = nil
        lastConnectionError = nil
        lastFailureTimedOut = false
        counters.created += 1
        var actions = Actions()
        guard case .running = phase else {
            actions.closes.append(Close(connection: connection, reason: .shutdown))
            counters.closed[.shutdown, default: 0] += 1
            finishShutdownIfDone(&actions)
            return actions
        }
        let expiresAt = settings.maxLifetime.map { lifetime in
            now.advanced(by: lifetime - lifetime * (settings.maxLifetimeJitter * random.nextUnit()))
        }
        nextConnectionID += 1
        let slot = Slot(
            connection: connection, id: nextConnectionID, createdAt: now, expiresAt: expiresAt,
            state: .idle, returnedAt: now, leasedAt: now, location: LeaseLocation(file: "", line: 0))
        let slotNumber: Int
        if let free = freeSlots.popLast() {
            slotNumber = free
            slots[free] = slot
        } else {
            slotNumber = slots.count
            slots.append(slot)
        }
        openCount += 1

        if let waiting = waiters.popFirst() {
            slots[slotNumber].state = .leased
            slots[slotNumber].location = waiting.location
            counters.waitCount += 1
            counters.totalWaitDuration += waiting.enqueuedAt.duration(to: now)
            actions.handOver = (waiting.waiter, Lease(slot: slotNumber, connectionID: slot.id, connection: connection))
        } else if idle.count >= settings.maxConnections, settings.overflowIdleTimeout == nil {
            remove(slotNumber, reason: .overflow, into: &actions)
        } else {
            idle.append(slotNumber)
        }
        actions.createConnections = connectionsToStart(now: now)
        return actions
    }

    /// A connection attempt failed (`timedOut`: it gave up waiting for an answer, rather than
    /// being refused). Retries back off exponentially with jitter; when no connection is open or
    /// being opened, the waiters fail now with the error, except, after a refusal (a database
    /// restarting), those whose deadline comes after the next attempt, which wait for it.
    mutating func connectionFailed(_ error: any Error, timedOut: Bool = false, now: Instant) -> Actions {
        connecting -= 1
        counters.creationFailures += 1
        consecutiveFailures += 1
        lastConnectionError = error
        lastFailureTimedOut = timedOut
        var actions = Actions()
        if case .running = phase {
            let backoff = Backoff(
                initialDelay: settings.connectRetryDelay, maximumDelay: settings.maxConnectRetryDelay, jitter: .equal)
            retryAt = now.advanced(by: backoff.delay(afterFailure: consecutiveFailures, random: random.nextUnit()))
            actions.wakeMaintenance = true
            if openCount == 0 && connecting == 0, let retryAt {
                var kept = Deque<WaitingRequest>()
                while let waiting = waiters.popFirst() {
                    if timedOut || !settings.waitsForReconnection || waiting.deadline <= retryAt {
                        actions.failures.append((waiting.waiter, .connectionUnavailable))
                    } else {
                        kept.append(waiting)
                    }
                }
                waiters = kept
            }
        }
        finishShutdownIfDone(&actions)
        return actions
    }

    /// How many connection attempts to start now: enough for the waiters and `minConnections`,
    /// within the connection limit and the limit on attempts in flight, and none while backing off.
    @usableFromInline mutating func connectionsToStart(now: Instant) -> Int {
        guard case .running = phase else { return 0 }
        if let retryAt, now < retryAt { return 0 }
        let wanted = max(waiters.count - connecting, settings.minConnections - openCount - connecting, 0)
        let room = settings.maxConnections + settings.maxOverflow - openCount - connecting
        let attempts = settings.maxConcurrentConnectionAttempts - connecting
        let start = max(0, min(wanted, room, attempts))
        connecting += start
        return start
    }

    // MARK: Maintenance

    /// The maintenance task woke up: fail timed-out waiters, close idle and expired connections,
    /// report leaks, refill, retry. Returns the actions and the next deadline to wake up for.
    mutating func timerFired(now: Instant) -> (actions: Actions, nextDeadline: Instant?) {
        var actions = Actions()
        var next: Instant?
        func consider(_ deadline: Instant) {
            if next.map({ deadline < $0 }) ?? true { next = deadline }
        }

        if !waiters.isEmpty {
            var kept = Deque<WaitingRequest>()
            for waiting in waiters {
                if waiting.deadline <= now {
                    counters.timeouts += 1
                    // With nothing open and connecting failing, the wait was for the database,
                    // not for a busy pool: say so.
                    let failure: Failure =
                        openCount == 0 && lastConnectionError != nil
                        ? .connectionUnavailable : .acquireTimeout(waited: waiting.enqueuedAt.duration(to: now))
                    actions.failures.append((waiting.waiter, failure))
                } else {
                    kept.append(waiting)
                    consider(waiting.deadline)
                }
            }
            waiters = kept
        }

        if case .draining(let deadline) = phase {
            if now >= deadline {
                // Grace period over: close the connections still leased; their releases are ignored.
                for slotNumber in slots.indices where slots[slotNumber].state != .free {
                    remove(slotNumber, reason: .shutdown, into: &actions)
                }
            } else {
                consider(deadline)
            }
            finishShutdownIfDone(&actions)
            return (actions, next)
        }
        guard case .running = phase else { return (actions, nil) }

        // Lifetime: idle connections close now, leased ones when they come back.
        for slotNumber in slots.indices {
            let slot = slots[slotNumber]
            if slot.state == .free { continue }
            if let expiresAt = slot.expiresAt {
                if expiresAt <= now {
                    if slot.state == .idle {
                        remove(slotNumber, reason: .lifetime, into: &actions)
                        continue
                    }
                    slots[slotNumber].closeOnReturn = true
                } else {
                    consider(expiresAt)
                }
            }
            if slot.state == .leased, let threshold = settings.leakDetectionThreshold, !slot.leakReported {
                let reportAt = slot.leasedAt.advanced(by: threshold)
                if reportAt <= now {
                    slots[slotNumber].leakReported = true
                    actions.leaks.append(LeakReport(connectionID: slot.id, heldFor: slot.leasedAt.duration(to: now), location: slot.location))
                } else {
                    consider(reportAt)
                }
            }
        }

        // Overflow beyond maxConnections, then idleness beyond minConnections: the coldest first.
        if let overflowIdleTimeout = settings.overflowIdleTimeout,
            let closeAt = closeIdle(above: settings.maxConnections, after: overflowIdleTimeout, reason: .overflow, now: now, into: &actions)
        {
            consider(closeAt)
        }
        if let idleTimeout = settings.idleTimeout,
            let closeAt = closeIdle(above: settings.minConnections, after: idleTimeout, reason: .idle, now: now, into: &actions)
        {
            consider(closeAt)
        }

        actions.createConnections = connectionsToStart(now: now)
        if let retryAt, retryAt > now, waiters.count > connecting || openCount + connecting < settings.minConnections {
            consider(retryAt)
        }
        return (actions, next)
    }

    /// Closes idle connections idle for `timeout` by `now`, the least recently used first, while
    /// more than `floor` are open; returns when the next one would be due.
    mutating func closeIdle(
        above floor: Int, after timeout: Duration, reason: CloseReason, now: Instant, into actions: inout Actions
    ) -> Instant? {
        while openCount > floor, let coldest = idle.first {
            let closeAt = slots[coldest].returnedAt.advanced(by: timeout)
            if closeAt > now { return closeAt }
            remove(coldest, reason: reason, into: &actions)
        }
        return nil
    }

    // MARK: Shutdown

    /// Stop handing out connections: fail the waiters, close the idle connections, and give the
    /// leased ones the grace period to come back.
    mutating func shutdownRequested(now: Instant) -> Actions {
        var actions = Actions()
        guard case .running = phase else { return actions }
        phase = .draining(deadline: now.advanced(by: settings.shutdownGracePeriod))
        while let waiting = waiters.popFirst() {
            actions.failures.append((waiting.waiter, .shutdown))
        }
        while let slotNumber = idle.last {
            remove(slotNumber, reason: .shutdown, into: &actions)
        }
        actions.wakeMaintenance = true
        finishShutdownIfDone(&actions)
        return actions
    }

    var isShutDown: Bool {
        if case .shutDown = phase { return true }
        return false
    }


    @usableFromInline mutating func finishShutdownIfDone(_ actions: inout Actions) {
        guard case .draining = phase, openCount == 0, connecting == 0 else { return }
        phase = .shutDown
        actions.shutdownCompleted = true
    }

    // MARK: Bookkeeping

    @usableFromInline mutating func remove(_ slotNumber: Int, reason: CloseReason, into actions: inout Actions) {
        let slot = slots[slotNumber]
        guard slot.state != .free else { return }
        if slot.state == .idle, let index = idle.lastIndex(of: slotNumber) {
            idle.remove(at: index)
        }
        slots[slotNumber].state = .free
        slots[slotNumber].connection = nil
        freeSlots.append(slotNumber)
        openCount -= 1
        counters.closed[reason, default: 0] += 1
        actions.closes.append(Close(connection: slot.connection!, reason: reason))
    }

    /// The current figures.
    var statistics: PoolStatistics {
        var statistics = counters
        statistics.open = openCount
        statistics.idle = idle.count
        statistics.inUse = openCount - idle.count
        statistics.overflowInUse = max(0, statistics.inUse - settings.maxConnections)
        statistics.connecting = connecting
        statistics.waiting = waiters.count
        return statistics
    }
}

extension PoolStateMachine.Actions: Sendable where Waiter: Sendable {}
