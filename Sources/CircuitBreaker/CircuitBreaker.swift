public import CoreMetrics
public import KeelCore
public import Synchronization
import Tracing

/// Stops calling a service that keeps failing, and tests its recovery with a few probe calls.
///
/// ```swift
/// let breaker = CircuitBreaker(name: "rpc")                 // opens after 5 failures in a row
/// do {
///     let block = try await breaker.run { try await rpc.latestBlock() }
/// } catch let error as CircuitBreakerError where error.code == .open {
///     print("RPC is down; next probe in \(error.remaining.map(String.init(describing:)) ?? "-")")
/// }
/// ```
///
/// Closed, calls go through and their outcomes are counted. When ``CircuitBreakerConfiguration``'s
/// rules say so (failures in a row, a failure rate over a window, slow calls), the breaker opens:
/// calls throw ``CircuitBreakerError`` (code ``CircuitBreakerError/Code/open``) at once, without being made. After the open
/// duration it is half-open: a few probe calls go through; enough successes close it, a failure
/// opens it again (for longer, when configured). Errors the classifier does not call failures
/// (``CircuitBreakerConfiguration/isFailure``) count as successes; ignored errors and task
/// cancellation are not counted at all.
///
/// Made with a ``CircuitBreakerStore``, the breaker shares its openings and closings with the
/// breakers of its name in other processes and follows theirs.
///
/// The logic is a value-type state machine under a pthread lock (`Locked`). The closed path reads the state from an
/// atomic, takes the lock once to count the outcome, allocates nothing, and reads the clock only
/// when calls are timed (a slow-call threshold or a time window) or fail; an open breaker rejects
/// from atomics alone.
public final class CircuitBreaker<BreakerClock: Clock>: Sendable where BreakerClock.Duration == Duration {
    @usableFromInline typealias Machine = CircuitBreakerStateMachine

    /// The breaker's name (in transitions and metrics).
    public let name: String
    /// Its configuration.
    public let configuration: CircuitBreakerConfiguration
    @usableFromInline let clock: BreakerClock
    /// Time zero of the state machine's nanosecond times.
    @usableFromInline let origin: BreakerClock.Instant
    /// Whether every call is timed.
    @usableFromInline let timesCalls: Bool
    /// `epoch << 2 | code`, code 1 closed or disabled, 2 open, 3 forced open, 0 half-open: the
    /// lock-free check of the closed and open paths.
    @usableFromInline let stateWord = Atomic<Int>(1)
    /// When the current open state ends (ticks), valid while `stateWord`'s code is 2.
    @usableFromInline let openUntil = Atomic<Int64>(0)
    /// Calls the lock-free open path rejected.
    @usableFromInline let rejectedWithoutLock = Atomic<Int>(0)
    @usableFromInline let machine: Locked<Machine>
    private let listeners = Locked<[Int: AsyncStream<CircuitBreakerTransition>.Continuation]>([:])
    private let nextListener = Atomic<Int>(0)
    private let onTransition: (@Sendable (CircuitBreakerTransition) -> Void)?
    private let store: (any CircuitBreakerStore)?
    private let exporter: StatisticsExporter<CircuitBreakerStatistics>?

    /// A breaker on `clock`.
    ///
    /// - Parameters:
    ///   - name: Its name, in transitions and as the `breaker` dimension of its metrics.
    ///   - configuration: When it opens and how it recovers.
    ///   - clock: The clock of open durations, time windows and slow calls.
    ///   - store: Where it shares its state with the breakers of its name in other processes;
    ///     `nil` for a breaker of this process alone.
    ///   - metricsFactory: Where ``publishMetrics()`` sends the metrics; `nil` for none.
    ///     Default `MetricsSystem.factory`.
    ///   - onTransition: Called after every state change, outside the lock.
    public convenience init(
        name: String = "default", configuration: CircuitBreakerConfiguration = CircuitBreakerConfiguration(), clock: BreakerClock,
        store: (any CircuitBreakerStore)? = nil, metricsFactory: (any MetricsFactory)? = MetricsSystem.factory,
        onTransition: (@Sendable (CircuitBreakerTransition) -> Void)? = nil
    ) throws(CircuitBreakerConfigurationError) {
        try configuration.validate()
        self.init(
            name: name, validatedConfiguration: configuration, clock: clock, store: store, metricsFactory: metricsFactory,
            onTransition: onTransition)
    }

    /// A breaker whose configuration has been validated.
    init(
        name: String, validatedConfiguration configuration: CircuitBreakerConfiguration, clock: BreakerClock,
        store: (any CircuitBreakerStore)?, metricsFactory: (any MetricsFactory)?,
        onTransition: (@Sendable (CircuitBreakerTransition) -> Void)?
    ) {
        self.name = name
        self.configuration = configuration
        self.clock = clock
        origin = clock.now
        if case .time = configuration.window {
            timesCalls = true
        } else {
            timesCalls = configuration.slowCallThreshold != nil
        }
        machine = Locked(Machine(configuration: configuration))
        self.onTransition = onTransition
        self.store = store
        exporter = metricsFactory.map {
            StatisticsExporter(
                factory: $0, dimensions: [("breaker", name)], initial: CircuitBreakerStatistics(),
                figures: CircuitBreakerStatistics.metricFigures)
        }
        store?.follow(name: name) { [weak self] shared in
            guard let self else { return false }
            self.adopt(shared)
            return true
        }
    }

    /// The state now (an open breaker whose open duration has passed says `open` until a call asks).
    public var state: CircuitBreakerState { machine.withLock { $0.state } }

    /// The counts since creation and the window's now.
    public var statistics: CircuitBreakerStatistics {
        let now = ticks()
        var statistics = machine.withLock { $0.statistics(at: now) }
        statistics.notPermitted += rejectedWithoutLock.load(ordering: .relaxed)
        return statistics
    }

    /// Now, in nanoseconds since the breaker was created.
    @inlinable
    func ticks() -> Int64 {
        origin.duration(to: clock.now).inNanoseconds
    }

    // MARK: Calls

    /// Makes the call when the breaker allows it and counts its outcome.
    ///
    /// #### Errors
    /// ``CircuitBreakerError`` without calling `body` when the breaker is open or its probe slots are
    /// taken; otherwise whatever `body` throws.
    @inlinable
    public func run<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        let ticket = try admit()
        do {
            let result = try await body()
            finish(ticket, .success)
            return result
        } catch {
            finish(ticket, outcome(of: error))
            throw error
        }
    }

    /// Asks to make one call, for code that cannot wrap it in a closure; report its outcome on the
    /// permit. A permit dropped without a report counts as ignored (and frees its probe slot).
    ///
    /// ```swift
    /// let permit = try breaker.permit()
    /// do {
    ///     try await send(request)
    ///     permit.success()
    /// } catch {
    ///     permit.failure(error)
    /// }
    /// ```
    ///
    /// #### Errors
    /// ``CircuitBreakerError`` when the breaker does not allow a call now.
    public func permit() throws(CircuitBreakerError) -> CircuitBreakerPermit<BreakerClock> {
        CircuitBreakerPermit(breaker: self, ticket: try admit())
    }

    /// What one admitted call carries: the epoch it was admitted in and when it started (when timed).
    @usableFromInline
    struct Ticket: Sendable {
        @usableFromInline let epoch: Int
        @usableFromInline let start: Int64?
        /// Admitted by the closed path, so a success needs no clock reading.
        @usableFromInline let closed: Bool

        @usableFromInline init(epoch: Int, start: Int64?, closed: Bool) {
            self.epoch = epoch
            self.start = start
            self.closed = closed
        }
    }

    @inlinable
    func admit() throws(CircuitBreakerError) -> Ticket {
        let word = stateWord.load(ordering: .acquiring)
        switch word & 3 {
        case 1:
            return Ticket(epoch: word >> 2, start: timesCalls ? ticks() : nil, closed: true)
        case 3:
            rejectedWithoutLock.wrappingAdd(1, ordering: .relaxed)
            throw .open(remaining: nil)
        case 2:
            let now = ticks()
            let until = openUntil.load(ordering: .relaxed)
            // The deadline read belongs to this open state only if the state did not move meanwhile.
            if now < until, stateWord.load(ordering: .acquiring) == word {
                rejectedWithoutLock.wrappingAdd(1, ordering: .relaxed)
                throw .open(remaining: .nanoseconds(until - now))
            }
            return try admitSlowly()
        default:
            return try admitSlowly()
        }
    }

    @usableFromInline
    func admitSlowly() throws(CircuitBreakerError) -> Ticket {
        let now = ticks()
        let (permission, transition) = machine.withLock { machine in
            let answer = machine.permit(at: now)
            if answer.transition != nil { publish(machine) }
            return answer
        }
        if let transition { announce(transition) }
        switch permission {
        case .permitted(let epoch): return Ticket(epoch: epoch, start: timesCalls ? now : nil, closed: false)
        case .rejected(let error): throw error
        }
    }

    @inlinable
    func outcome(of error: any Error) -> Machine.Outcome {
        if error is CancellationError || configuration.isIgnored(error) { return .ignored }
        return configuration.isFailure(error) ? .failure : .success
    }

    @usableFromInline
    func finish(_ ticket: Ticket, _ outcome: Machine.Outcome) {
        var now: Int64?
        if timesCalls || !ticket.closed {
            now = ticks()
        } else if case .failure = outcome {
            now = ticks()
        }
        var duration: Duration?
        if let start = ticket.start, let now { duration = .nanoseconds(now - start) }
        let (transition, shared) = machine.withLock { machine in
            let transition = machine.record(outcome, epoch: ticket.epoch, duration: duration, at: now)
            guard let transition else { return (transition, CircuitBreakerSharedState?.none) }
            publish(machine)
            return (transition, store == nil ? nil : machine.shared(after: transition, at: now))
        }
        if let transition { announce(transition) }
        if let shared { store?.share(shared, name: name) }
    }

    /// Applies the state another process's breaker of this name shared.
    func adopt(_ shared: CircuitBreakerSharedState) {
        let now = ticks()
        let transition = machine.withLock { machine in
            let transition = machine.adopt(shared, at: now)
            publish(machine)
            return transition
        }
        if let transition { announce(transition) }
    }

    // MARK: Control

    /// Closes the breaker and empties its window (in this process only, with a store).
    public func reset() { force(.closed) }

    /// Opens the breaker until ``reset()``: every call is rejected (in this process only, with a
    /// store).
    public func forceOpen() { force(.forcedOpen) }

    /// Turns the breaker off: every call goes through and nothing is counted, until ``reset()`` (in
    /// this process only, with a store).
    public func disable() { force(.disabled) }

    private func force(_ state: CircuitBreakerState) {
        let now = ticks()
        let transition = machine.withLock { machine in
            let transition = machine.force(state, at: now)
            publish(machine)
            return transition
        }
        if let transition { announce(transition) }
    }

    /// Stores the machine's epoch, state and open deadline for the lock-free paths.
    /// Called under the lock.
    private func publish(_ machine: Machine) {
        let code: Int
        switch machine.phase {
        case .closed, .disabled: code = 1
        case .open(let until):
            openUntil.store(until, ordering: .relaxed)
            code = 2
        case .forcedOpen: code = 3
        case .halfOpen: code = 0
        }
        stateWord.store(machine.epoch << 2 | code, ordering: .releasing)
    }

    // MARK: Transitions and metrics

    /// The state changes from now on, for as long as the stream is iterated (the 100 newest are
    /// kept for a slow reader). Each access gives a new stream.
    public var transitions: AsyncStream<CircuitBreakerTransition> {
        let (stream, continuation) = AsyncStream.makeStream(of: CircuitBreakerTransition.self, bufferingPolicy: .bufferingNewest(100))
        let key = nextListener.add(1, ordering: .relaxed).newValue
        listeners.withLock { $0[key] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.listeners.withLock { $0.removeValue(forKey: key) }
        }
        return stream
    }

    /// Tells the transition to the stream's listeners and `onTransition`, and adds it as a
    /// `circuit_breaker.transition` event to the span active in the calling task, if any.
    private func announce(_ change: (CircuitBreakerState, CircuitBreakerState)) {
        let transition = CircuitBreakerTransition(name: name, from: change.0, to: change.1)
        for continuation in listeners.withLock({ Array($0.values) }) { continuation.yield(transition) }
        onTransition?(transition)
        if let context = ServiceContext.current, let span = InstrumentationSystem.tracer.activeSpan(identifiedBy: context) {
            span.addEvent(SpanEvent(
                name: "circuit_breaker.transition",
                attributes: [
                    "keel.breaker.name": .string(name), "keel.breaker.from": .string("\(change.0)"),
                    "keel.breaker.to": .string("\(change.1)"),
                ]))
        }
    }

    /// Sends the metrics to the `metricsFactory` given at creation: the state as a gauge
    /// (`keel_breaker_state`: 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled) and counters
    /// of what changed since the last publication (`keel_breaker_calls_total`, `_failures_total`,
    /// `_slow_calls_total`, `_not_permitted_total`, `_trips_total`), dimension `breaker`. Calls never
    /// touch metrics; call this periodically.
    public func publishMetrics() {
        exporter?.publish(statistics)
    }

    deinit {
        for continuation in listeners.withLock({ Array($0.values) }) { continuation.finish() }
    }
}

extension CircuitBreaker where BreakerClock == ContinuousClock {
    /// A breaker on the continuous clock.
    public convenience init(
        name: String = "default", configuration: CircuitBreakerConfiguration = CircuitBreakerConfiguration(),
        store: (any CircuitBreakerStore)? = nil, metricsFactory: (any MetricsFactory)? = MetricsSystem.factory,
        onTransition: (@Sendable (CircuitBreakerTransition) -> Void)? = nil
    ) throws(CircuitBreakerConfigurationError) {
        try self.init(
            name: name, configuration: configuration, clock: ContinuousClock(), store: store, metricsFactory: metricsFactory,
            onTransition: onTransition)
    }
}
