public import DequeModule

/// The limiter's logic as a value: permits, spacing and the FIFO queue. No I/O, no clock reads,
/// no locks; ``RateLimiter`` owns one under a lock and passes the time in.
///
/// A grant carries the instant its holder may start: `max(now, lastStart + minInterval)`. Grants
/// are handed out in FIFO order and each reserves its start, so consecutive starts are never
/// closer than `minInterval`, and no background task is needed to release the queue on time.
///
/// A caller may give a deadline: it is granted only a start at or before it, and
/// ``deadlinePassed(requestID:)`` takes it out of the queue. The machine keeps every counter:
/// timeouts and cancellations are counted by the events that cause them.
@usableFromInline
struct RateLimiterStateMachine<Waiter, Instant: InstantProtocol> where Instant.Duration == Duration {
    /// What an acquire gets.
    @usableFromInline
    enum Decision {
        /// Start at this instant (`nil`: now); the permit is held from now on.
        case granted(startAt: Instant?)
        /// No permit: call again with a waiter (only when called without one).
        case mustWait
        /// Queued.
        case enqueued
        /// No start before the caller's deadline: nothing is held.
        case timedOut
    }

    @usableFromInline
    struct Waiting {
        @usableFromInline let id: Int
        @usableFromInline let waiter: Waiter
        @usableFromInline let enqueuedAt: Instant
        /// The latest start the caller accepts.
        @usableFromInline let deadline: Instant?

        @inlinable
        init(id: Int, waiter: Waiter, enqueuedAt: Instant, deadline: Instant?) {
            self.id = id
            self.waiter = waiter
            self.enqueuedAt = enqueuedAt
            self.deadline = deadline
        }
    }

    @usableFromInline let maxConcurrent: Int
    @usableFromInline let minInterval: Duration
    @usableFromInline var inFlight = 0
    /// The latest reserved start (grants are scheduled from it, in FIFO order).
    @usableFromInline var lastStart: Instant?
    /// The latest actual start: a task that wakes late must not start closer than this allows.
    @usableFromInline var lastActualStart: Instant?
    @usableFromInline var waiters = Deque<Waiting>()
    @usableFromInline var counters = RateLimiterStatistics()

    @usableFromInline
    init(maxConcurrent: Int, minInterval: Duration) {
        self.maxConcurrent = maxConcurrent
        self.minInterval = minInterval
    }

    /// A caller asks for a permit, to start at or before `deadline` when one is given. `now` may
    /// be `nil` when `minInterval` is zero and there is no deadline (no spacing to keep, so the
    /// time is not needed on the fast path).
    @inlinable
    mutating func acquire(waiter: Waiter?, requestID: Int, now: Instant?, deadline: Instant? = nil) -> Decision {
        if waiters.isEmpty, inFlight < maxConcurrent {
            if let deadline, let now, nextStart(now: now) > deadline {
                counters.timeouts += 1
                return .timedOut
            }
            counters.acquired += 1
            return .granted(startAt: grant(now: now))
        }
        guard let waiter, let now else { return .mustWait }
        if let deadline, deadline <= now {
            counters.timeouts += 1
            return .timedOut
        }
        waiters.append(Waiting(id: requestID, waiter: waiter, enqueuedAt: now, deadline: deadline))
        return .enqueued
    }

    /// Takes a free permit when nobody waits and there is no interval to keep, the only case in
    /// which a grant needs no time: the fast path of ``RateLimiter/withPermit(isolation:_:)``.
    @inlinable
    mutating func acquireIfFree() -> Bool {
        guard minInterval == .zero, waiters.isEmpty, inFlight < maxConcurrent else { return false }
        inFlight += 1
        counters.acquired += 1
        return true
    }

    /// Takes a permit only if one is free and a start is allowed now.
    @inlinable
    mutating func tryAcquire(now: Instant?) -> Bool {
        guard waiters.isEmpty, inFlight < maxConcurrent else { return false }
        if let now, let lastStart, lastStart.advanced(by: minInterval) > now { return false }
        if let now, let lastActualStart, lastActualStart.advanced(by: minInterval) > now { return false }
        counters.acquired += 1
        _ = grant(now: now)
        if let now { recordStart(now) }  // it starts now: there is no later confirmation
        return true
    }

    /// Takes a permit and reserves the next start; `nil` (start now) when no time was given,
    /// which the shell does only when there is no interval to keep.
    @inlinable
    mutating func grant(now: Instant?) -> Instant? {
        inFlight += 1
        guard let now else { return nil }
        let startAt = nextStart(now: now)
        lastStart = startAt
        return startAt
    }

    /// The start a grant made at `now` would get.
    @inlinable
    func nextStart(now: Instant) -> Instant {
        var startAt = lastStart.map { max(now, $0.advanced(by: minInterval)) } ?? now
        if let lastActualStart { startAt = max(startAt, lastActualStart.advanced(by: minInterval)) }
        return startAt
    }

    /// A granted task is about to start at `now` (after sleeping until its reserved start).
    /// Returns `nil` when it may start, or the instant to sleep until: a task that woke late
    /// next to one that woke on time would otherwise start too close to it.
    @usableFromInline
    mutating func confirmStart(now: Instant) -> Instant? {
        if let lastActualStart, now < lastActualStart.advanced(by: minInterval) {
            return lastActualStart.advanced(by: minInterval)
        }
        recordStart(now)
        return nil
    }

    @usableFromInline
    mutating func recordStart(_ now: Instant) {
        if let lastActualStart {
            let gap = lastActualStart.duration(to: now)
            counters.minStartGap = counters.minStartGap.map { min($0, gap) } ?? gap
        }
        lastActualStart = now
    }

    /// Whether releasing needs the time: to start a waiter and time its wait.
    @inlinable
    var releaseNeedsTime: Bool { !waiters.isEmpty }

    /// Gives a permit back when nobody waits for it; `false`, with nothing changed, when a
    /// waiter must get it through ``released(now:cancelled:)``.
    @inlinable
    mutating func releaseIfNobodyWaits() -> Bool {
        guard waiters.isEmpty else { return false }
        inFlight -= 1
        return true
    }

    /// What a released permit leads to: the waiter it goes to (with its start), and the waiters
    /// passed over because no start came before their deadlines.
    @usableFromInline
    struct Release {
        @usableFromInline var next: (waiter: Waiter, startAt: Instant)?
        @usableFromInline var timedOut: [Waiter] = []

        @inlinable
        init() {}
    }

    /// A permit came back; `cancelled` when its holder gave it up because its task was cancelled
    /// before it started. `nil` when nobody waits; `now` must be given when ``releaseNeedsTime``.
    @usableFromInline
    mutating func released(now: Instant?, cancelled: Bool = false) -> Release? {
        inFlight -= 1
        if cancelled { counters.cancellations += 1 }
        guard !waiters.isEmpty else { return nil }
        var release = Release()
        guard let now else { preconditionFailure("releasing to a waiter needs the time (releaseNeedsTime)") }
        while let next = waiters.popFirst() {
            if let deadline = next.deadline, nextStart(now: now) > deadline {
                counters.timeouts += 1
                release.timedOut.append(next.waiter)
                continue
            }
            release.next = handOver(next, now: now)
            break
        }
        return release
    }

    @usableFromInline
    mutating func handOver(_ next: Waiting, now: Instant) -> (waiter: Waiter, startAt: Instant) {
        let startAt = grant(now: now)!
        counters.acquired += 1
        counters.waited += 1
        let waited = next.enqueuedAt.duration(to: startAt)
        counters.totalWait += waited
        counters.maxWait = max(counters.maxWait, waited)
        return (next.waiter, startAt)
    }

    /// A waiting caller was cancelled. Returns its waiter, or `nil` when it was already granted
    /// (it then holds a permit it must release) or timed out.
    mutating func cancelled(requestID: Int) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.id == requestID }) else { return nil }
        counters.cancellations += 1
        return waiters.remove(at: index).waiter
    }

    /// A waiting caller's deadline passed. Returns its waiter, or `nil` when it was already
    /// granted (its start is then at or before the deadline) or cancelled.
    mutating func deadlinePassed(requestID: Int) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.id == requestID }) else { return nil }
        counters.timeouts += 1
        return waiters.remove(at: index).waiter
    }

    /// The figures now.
    var statistics: RateLimiterStatistics {
        var statistics = counters
        statistics.inFlight = inFlight
        statistics.queued = waiters.count
        return statistics
    }
}
