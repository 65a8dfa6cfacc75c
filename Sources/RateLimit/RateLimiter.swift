public import CoreMetrics
public import KeelCore

/// Caps how many operations run at once and how close together they start: a semaphore plus a
/// minimum interval, served strictly first in, first out.
///
/// ```swift
/// let coinGecko = RateLimiter.coinGecko()          // 5 at once, starts ≥ 2 s apart
/// let price = try await coinGecko.withPermit { try await api.price("bitcoin") }
/// ```
///
/// A cancelled waiter leaves the queue at once and never consumes or leaks a permit, including
/// when the cancellation races with being granted. Timeouts are cancellations with a deadline.
/// Every wait is on the injected clock. With `minInterval` zero and a free permit, `withPermit`
/// takes one lock each way, reads no clock and allocates nothing.
///
/// Metrics (to `MetricsSystem.factory` unless created with another `metricsFactory`, dimension `limiter`): gauges
/// `keel_ratelimit_in_flight`, `_queued`, `_max_wait_seconds`, `_min_start_gap_seconds`; counters
/// `keel_ratelimit_acquired_total`, `_waited_total`, `_wait_seconds_total`, `_timeouts_total`,
/// `_cancellations_total`. They are published by ``publishMetrics()`` (periodically by
/// ``reportMetrics(every:)``), never on the acquire and release paths.
public final class RateLimiter<LimiterClock: Clock>: Sendable where LimiterClock.Duration == Duration {
    @usableFromInline
    typealias Machine = RateLimiterStateMachine<Waiter, LimiterClock.Instant>

    /// A task waiting in the queue, and the timeout it was given (for its error).
    @usableFromInline
    struct Waiter {
        @usableFromInline let continuation: UnsafeContinuation<LimiterClock.Instant, any Error>
        @usableFromInline let timeout: Duration?

        @inlinable
        init(continuation: UnsafeContinuation<LimiterClock.Instant, any Error>, timeout: Duration?) {
            self.continuation = continuation
            self.timeout = timeout
        }
    }

    @usableFromInline
    struct State {
        @usableFromInline var machine: Machine
        @usableFromInline var nextRequestID = 0
    }

    /// The most permits held at once.
    public let maxConcurrent: Int
    /// The least time between two starts.
    public let minInterval: Duration
    @usableFromInline let clock: LimiterClock
    @usableFromInline let state: Locked<State>
    let exporter: StatisticsExporter<RateLimiterStatistics>?

    /// A limiter on `clock`.
    ///
    /// - Parameters:
    ///   - maxConcurrent: The most operations at once; at least 1.
    ///   - minInterval: The least time between two starts; zero for a plain semaphore.
    ///   - clock: The clock intervals are measured and waited on.
    ///   - name: The `limiter` dimension of its metrics.
    ///   - metricsFactory: Where ``publishMetrics()`` sends the statistics; `nil` for none.
    ///     Default `MetricsSystem.factory`.
    public init(
        maxConcurrent: Int, minInterval: Duration = .zero, clock: LimiterClock,
        name: String = "default", metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    ) {
        precondition(maxConcurrent >= 1, "maxConcurrent must be at least 1, not \(maxConcurrent)")
        precondition(minInterval >= .zero, "minInterval must not be negative, not \(minInterval)")
        self.maxConcurrent = maxConcurrent
        self.minInterval = minInterval
        self.clock = clock
        state = Locked(State(machine: Machine(maxConcurrent: maxConcurrent, minInterval: minInterval)))
        exporter = metricsFactory.map {
            StatisticsExporter(
                factory: $0, dimensions: [("limiter", name)], initial: RateLimiterStatistics(),
                figures: RateLimiterStatistics.metricFigures)
        }
    }

    /// Sends the statistics now to the metrics factory given at creation (nothing without one):
    /// gauges get the current values, counters what changed since the last publication.
    public func publishMetrics() {
        exporter?.publish(statistics)
    }

    /// Publishes the metrics every `interval` on the limiter's clock until the task is cancelled,
    /// then once more. Run it next to your service (for example in a task group).
    public func reportMetrics(every interval: Duration) async {
        precondition(interval > .zero, "interval must be positive, not \(interval)")
        while !Task.isCancelled {
            publishMetrics()
            try? await clock.sleep(for: interval, tolerance: nil)
        }
        publishMetrics()
    }

    /// The limiter's figures now.
    public var statistics: RateLimiterStatistics {
        state.withLock { $0.machine.statistics }
    }

    /// Runs `body` holding a permit, released when it returns or throws.
    ///
    /// #### Errors
    /// `CancellationError` when the task is cancelled while waiting (no permit is kept), and
    /// whatever `body` throws.
    @inlinable
    public func withPermit<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        // A free permit with no spacing to wait for is taken here, without another async call.
        if minInterval > .zero || !state.withLock({ $0.machine.acquireIfFree() }) {
            try await acquireSlowly()
        }
        let result: Result
        do {
            result = try await body()
        } catch {
            release()
            throw error
        }
        release()
        return result
    }

    /// Takes a permit now if one is free and the interval allows a start now; `false` otherwise.
    /// A `true` must be followed by ``release()``.
    @inlinable
    public func tryAcquire() -> Bool {
        let now = minInterval > .zero ? clock.now : nil
        return state.withLock { $0.machine.tryAcquire(now: now) }
    }

    /// Waits for a permit; follow with ``release()``. Prefer ``withPermit(isolation:_:)``.
    ///
    /// #### Errors
    /// `CancellationError` when the task is cancelled while waiting; no permit is kept then.
    @inlinable
    public func acquire() async throws {
        if minInterval > .zero || !state.withLock({ $0.machine.acquireIfFree() }) {
            try await acquireSlowly()
        }
    }

    /// Waits for a permit when none is free or there is an interval to keep.
    @usableFromInline
    func acquireSlowly() async throws {
        if case .granted(let startAt) = firstDecision() {
            if let startAt { try await start(at: startAt) }
            return
        }
        try await wait()
    }

    /// Asks for a permit without waiting: granted (with its start), or must wait (or, with a
    /// deadline, timed out).
    func firstDecision(deadline: LimiterClock.Instant? = nil) -> Machine.Decision {
        let now = minInterval > .zero || deadline != nil ? clock.now : nil
        return state.withLock { $0.machine.acquire(waiter: nil, requestID: 0, now: now, deadline: deadline) }
    }

    /// Waits for a permit whose start comes within `timeout`; follow with ``release()``.
    ///
    /// The limiter's machine holds the deadline: a waiter is granted only a start at or before
    /// it, and leaves the queue when it passes.
    ///
    /// #### Errors
    /// ``RateLimitTimeoutError`` when no permit came in time, `CancellationError` when cancelled;
    /// no permit is kept in either case.
    public func acquire(timeout: Duration) async throws {
        let deadline = clock.now.advanced(by: timeout)
        switch firstDecision(deadline: deadline) {
        case .granted(let startAt):
            if let startAt { try await start(at: startAt) }
            return
        case .timedOut:
            throw RateLimitTimeoutError(timeout: timeout)
        case .mustWait, .enqueued:
            break
        }
        let requestID = nextRequestID()
        let startAt = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                // The deadline as an event for the machine; cancelled once the wait has ended.
                try? await clock.sleep(until: deadline, tolerance: nil)
                guard !Task.isCancelled else { return }
                let waiter = state.withLock { $0.machine.deadlinePassed(requestID: requestID) }
                waiter?.continuation.resume(throwing: RateLimitTimeoutError(timeout: timeout))
            }
            defer { group.cancelAll() }
            return try await enqueue(requestID: requestID, deadline: deadline, timeout: timeout)
        }
        try await start(at: startAt)
    }

    /// Gives a permit back; the next waiter (if any) gets it.
    @inlinable
    public func release() {
        if !state.withLock({ $0.machine.releaseIfNobodyWaits() }) {
            release(cancelled: false)
        }
    }

    /// Gives a permit back, `cancelled` when its task was cancelled before it started; resumes
    /// the waiter it goes to and the waiters whose deadlines it could not meet.
    @usableFromInline
    func release(cancelled: Bool) {
        let outcome = state.withLock { state in
            let now = state.machine.releaseNeedsTime ? clock.now : nil
            return state.machine.released(now: now, cancelled: cancelled)
        }
        guard let outcome else { return }
        if let (waiter, startAt) = outcome.next { waiter.continuation.resume(returning: startAt) }
        for waiter in outcome.timedOut {
            waiter.continuation.resume(throwing: RateLimitTimeoutError(timeout: waiter.timeout ?? .zero))
        }
    }

    /// Sleeps until a granted start, then confirms it against the previous actual start (sleeping
    /// again if this task woke late next to one that woke on time); gives the permit back if
    /// cancelled meanwhile.
    @usableFromInline
    func start(at startAt: LimiterClock.Instant) async throws {
        var target = startAt
        while true {
            if target > clock.now {
                do {
                    try await clock.sleep(until: target, tolerance: nil)
                } catch {
                    release(cancelled: true)
                    throw error
                }
            }
            let now = clock.now
            guard let later = state.withLock({ $0.machine.confirmStart(now: now) }) else { return }
            target = later
        }
    }

    /// The slow path: queue up until a release hands over a permit, then start.
    @usableFromInline
    func wait() async throws {
        let startAt = try await enqueue(requestID: nextRequestID(), deadline: nil, timeout: nil)
        try await start(at: startAt)
    }

    @usableFromInline
    func nextRequestID() -> Int {
        state.withLock { state in
            state.nextRequestID += 1
            return state.nextRequestID
        }
    }

    /// Queues up until a release hands over a permit (returning its start), the task is
    /// cancelled, or the deadline passes.
    @usableFromInline
    func enqueue(requestID: Int, deadline: LimiterClock.Instant?, timeout: Duration?) async throws -> LimiterClock.Instant {
        let startAt = try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<LimiterClock.Instant, any Error>) in
                let now = clock.now
                let waiter = Waiter(continuation: continuation, timeout: timeout)
                let outcome: Machine.Decision? = state.withLock { state in
                    if Task.isCancelled { return nil }
                    return state.machine.acquire(waiter: waiter, requestID: requestID, now: now, deadline: deadline)
                }
                switch outcome {
                case .none:
                    continuation.resume(throwing: CancellationError())
                case .granted(let startAt):
                    // A start of `nil` only comes without an interval: starting "now" is then exact.
                    continuation.resume(returning: startAt ?? now)
                case .timedOut:
                    continuation.resume(throwing: RateLimitTimeoutError(timeout: timeout ?? .zero))
                case .enqueued, .mustWait:
                    break
                }
            }
        } onCancel: {
            let waiter = state.withLock { $0.machine.cancelled(requestID: requestID) }
            waiter?.continuation.resume(throwing: CancellationError())
        }
        if Task.isCancelled {
            // Granted at the moment of cancellation: hand the permit on.
            release(cancelled: true)
            throw CancellationError()
        }
        return startAt
    }
}

extension RateLimiter where LimiterClock == ContinuousClock {
    /// A limiter on the continuous clock.
    public convenience init(
        maxConcurrent: Int, minInterval: Duration = .zero, name: String = "default",
        metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    ) {
        self.init(
            maxConcurrent: maxConcurrent, minInterval: minInterval, clock: ContinuousClock(), name: name,
            metricsFactory: metricsFactory)
    }

    /// A limiter of `limits` on the continuous clock (a preset: `RateLimiter(limits: .coinGecko)`).
    public convenience init(limits: PermitLimits, name: String = "default", metricsFactory: (any MetricsFactory)? = MetricsSystem.factory) {
        self.init(
            maxConcurrent: limits.maxConcurrent, minInterval: limits.minInterval, clock: ContinuousClock(), name: name,
            metricsFactory: metricsFactory)
    }
}

extension RateLimiter: PermitLimiting {}
