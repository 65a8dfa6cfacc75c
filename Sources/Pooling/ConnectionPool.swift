import DequeModule
import Logging
public import ServiceLifecycle
public import KeelCore

/// An async pool of connections from any ``ConnectionSource``.
///
/// ```swift
/// let pool = try ConnectionPool(source: source, configuration: configuration)
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await pool.run() }       // or add the pool to a ServiceGroup
///     let answer = try await pool.withConnection { connection in
///         try await connection.query("SELECT 42")
///     }
///     await pool.shutdown()
/// }
/// ```
///
/// Leases are served first in, first out; idle connections are reused last in, first out. All
/// background work (opening and closing connections, timeouts, idle and lifetime closes, leak
/// checks, metrics) happens inside ``run()``, which must be running for the pool to open
/// connections. Leasing and returning an idle connection takes one lock each, creates no task and
/// allocates nothing.
///
/// Metrics (to ``PoolConfiguration/metricsFactory``, swift-metrics' bootstrapped factory unless
/// set otherwise; dimension `pool`): gauges `keel_pool_connections_open`, `…_idle`, `…_in_use`,
/// `keel_pool_waiting`; counters `keel_pool_connections_created_total`,
/// `keel_pool_connection_failures_total`, `keel_pool_acquire_timeouts_total`,
/// `keel_pool_waits_total`, `keel_pool_connections_closed_total` (dimension `reason`); timer
/// `keel_pool_wait_duration`. Each lease is a `pool.acquire` span with the time it waited.
public final class ConnectionPool<Source: ConnectionSource, PoolClock: Clock>: Service, Sendable
where PoolClock.Duration == Duration {
    /// The connection type.
    public typealias Connection = Source.Connection

    @usableFromInline
    typealias Machine = PoolStateMachine<Connection, UnsafeContinuation<Granted, any Error>, PoolClock.Instant>

    /// What a waiting lease is resumed with.
    @usableFromInline
    struct Granted: Sendable {
        @usableFromInline let lease: Machine.Lease
        @usableFromInline let mustValidate: Bool

        @usableFromInline
        init(lease: Machine.Lease, mustValidate: Bool) {
            self.lease = lease
            self.mustValidate = mustValidate
        }
    }

    /// What ``enqueue(_:requestID:deadline:location:)`` does once the lock is released.
    @usableFromInline
    enum EnqueueOutcome {
        case resume(Granted)
        case fail(Machine.Failure)
        case cancelled
        case waiting(wake: UnsafeContinuation<Void, Never>?, runner: UnsafeContinuation<Void, Never>?)
    }

    @usableFromInline
    enum Command {
        case create
        case close(Connection, CloseReason)
    }

    @usableFromInline
    struct State {
        @usableFromInline var machine: Machine
        @usableFromInline var nextRequestID = 0
        /// Work for `run()`.
        var commands = Deque<Command>()
        var commandWaiter: UnsafeContinuation<Void, Never>?
        /// When the maintenance task will next wake up by itself.
        @usableFromInline var maintenanceTarget: PoolClock.Instant?
        var wakeRequested = false
        var wakeWaiter: UnsafeContinuation<Void, Never>?
        var shutdownWaiters: [UnsafeContinuation<Void, Never>] = []
        var shutdownCompleted = false
        var isRunning = false
    }

    /// The configuration the pool was created with.
    public let configuration: PoolConfiguration
    /// Where connections come from.
    public let source: Source
    @usableFromInline let clock: PoolClock
    let logger: Logger
    let metrics: PoolMetrics?
    @usableFromInline let state: Locked<State>
    /// Whether a lease needs the time (leak detection, or validation after idleness); without
    /// either, leasing an idle connection reads no clock.
    @usableFromInline let leaseNeedsTime: Bool

    /// Creates a pool; it opens connections once ``run()`` runs.
    ///
    /// #### Errors
    /// ``PoolConfigurationError`` when the configuration is out of range (see ``PoolConfiguration/validate()``).
    public init(source: Source, configuration: PoolConfiguration, clock: PoolClock) throws(PoolConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.source = source
        self.clock = clock
        var logger = configuration.logger
        logger[metadataKey: "pool"] = .string(configuration.name)
        self.logger = logger
        if case .whenIdleFor = configuration.validation {
            leaseNeedsTime = true
        } else {
            leaseNeedsTime = configuration.leakDetectionThreshold != nil
        }
        metrics = configuration.metricsFactory.map { PoolMetrics(factory: $0, poolName: configuration.name) }
        let seed = configuration.randomSeed ?? UInt64.random(in: .min ... .max)
        state = Locked(State(machine: Machine(settings: configuration, seed: seed)))
    }

    /// Whether shutdown has begun: leases are refused from then on.
    public var isShuttingDown: Bool {
        state.withLock { !$0.machine.isRunning }
    }

    /// The pool's figures now.
    public var statistics: PoolStatistics {
        state.withLock { $0.machine.statistics }
    }

    // MARK: Leasing

    /// Runs `body` with a leased connection and returns the connection when `body` returns or throws.
    ///
    /// - Parameters:
    ///   - isolation: The caller's actor, which `body` runs on.
    ///   - file: Where the lease is taken, logged if it is held past the leak detection threshold.
    ///   - line: The line of `file`.
    ///   - body: The work to do with the connection; it must not keep the connection.
    ///
    /// #### Errors
    /// ``PoolError`` with code ``PoolError/Code/acquireTimeout`` after ``PoolConfiguration/acquireTimeout``,
    /// ``PoolError/Code/connectionUnavailable`` when no connection is open and opening one fails
    /// (at once when no attempt is due before the deadline, else at the deadline),
    /// ``PoolError/Code/shutdown`` after shutdown began; `CancellationError` when the task is cancelled
    /// while waiting; and whatever `body` throws.
    @inlinable
    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation,
        file: StaticString = #fileID,
        line: UInt = #line,
        _ body: (Connection) async throws -> Result
    ) async throws -> Result {
        let lease = try await acquireLease(isolation: isolation, deadline: nil, location: LeaseLocation(file: file, line: line))
        let result: Result
        do {
            result = try await body(lease.connection)
        } catch {
            await release(lease)
            throw error
        }
        await release(lease)
        return result
    }

    /// Leases a connection until ``ConnectionLease/release()``; prefer ``withConnection(isolation:file:line:_:)``.
    ///
    /// - Parameters:
    ///   - deadline: When to give up; `nil` waits up to ``PoolConfiguration/acquireTimeout``.
    ///   - file: Where the lease is taken, logged if it is held past the leak detection threshold.
    ///   - line: The line of `file`.
    ///
    /// #### Errors
    /// As ``withConnection(isolation:file:line:_:)``, with the timeout at `deadline` when given.
    public func leaseConnection(
        deadline: PoolClock.Instant? = nil, file: StaticString = #fileID, line: UInt = #line
    ) async throws -> ConnectionLease<Source, PoolClock> {
        let lease = try await acquireLease(isolation: nil, deadline: deadline, location: LeaseLocation(file: file, line: line))
        return ConnectionLease(lease: lease, pool: self)
    }

    /// A lease in a `pool.acquire` span. The common case, an idle connection, is served without
    /// another async call (this is always inlined); the rest waits in ``acquireTraced(isolation:after:deadline:location:)``.
    @inlinable @inline(__always)
    func acquireLease(isolation: isolated (any Actor)?, deadline: PoolClock.Instant?, location: LeaseLocation) async throws -> Machine.Lease {
        let decision = firstDecision(deadline: deadline, location: location)
        if case .leased(let idle) = decision {
            traceImmediateAcquire()
            return idle
        }
        return try await acquireTraced(isolation: isolation, after: decision, deadline: deadline, location: location)
    }

    /// Asks the state machine for an idle connection, without waiting.
    @inlinable
    func firstDecision(deadline: PoolClock.Instant?, location: LeaseLocation) -> Machine.LeaseDecision {
        let now = leaseNeedsTime ? clock.now : nil
        return state.withLock { state in
            state.machine.leaseRequested(waiter: nil, requestID: 0, deadline: deadline, location: location, now: now)
        }
    }

    /// Carries on from a first decision: validate, wait, or fail; asks again after a failed validation.
    /// Inlinable, as the rest of the lease path: under contention most leases come this way, and
    /// unspecialized generic code would look up type metadata on every call.
    @inlinable
    func acquire(
        after first: Machine.LeaseDecision, deadline: PoolClock.Instant?, location: LeaseLocation
    ) async throws -> Machine.Lease {
        var decision = first
        while true {
            let granted: Granted
            switch decision {
            case .leased(let lease):
                return lease
            case .validate(let lease):
                granted = Granted(lease: lease, mustValidate: true)
            case .failed(let failure):
                throw error(for: failure)
            case .mustWait, .enqueued:
                granted = try await wait(deadline: deadline, location: location)
            }
            if !granted.mustValidate { return granted.lease }
            if try await validate(granted.lease) { return granted.lease }
            // It failed validation and was closed: ask again.
            decision = firstDecision(deadline: deadline, location: location)
        }
    }

    /// The slow path: queue up and suspend until a connection is handed over, the deadline passes,
    /// or the task is cancelled.
    @inlinable
    func wait(deadline: PoolClock.Instant?, location: LeaseLocation) async throws -> Granted {
        let requestID = state.withLock { state in
            state.nextRequestID += 1
            return state.nextRequestID
        }
        let start = clock.now
        let granted = try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Granted, any Error>) in
                enqueue(continuation, requestID: requestID, deadline: deadline, location: location)
            }
        } onCancel: {
            let waiter = state.withLock { $0.machine.waiterCancelled(requestID: requestID) }
            waiter?.resume(throwing: CancellationError())
        }
        recordWait(since: start)
        if Task.isCancelled {
            // Handed a connection at the moment of cancellation: give it back, never leak it.
            if granted.mustValidate {
                perform(state.withLock { $0.machine.validationFinished(granted.lease, succeeded: true, now: clock.now) })
            }
            await release(granted.lease)
            throw CancellationError()
        }
        return granted
    }

    /// Queues the waiter under the lock, or resumes it at once when a connection is free, the
    /// pool failed, or the task is already cancelled.
    @inlinable
    func enqueue(
        _ continuation: UnsafeContinuation<Granted, any Error>, requestID: Int, deadline: PoolClock.Instant?,
        location: LeaseLocation
    ) {
        let now = clock.now
        let outcome: EnqueueOutcome = state.withLock { state in
            if Task.isCancelled { return .cancelled }
            switch state.machine.leaseRequested(
                waiter: continuation, requestID: requestID, deadline: deadline, location: location, now: now)
            {
            case .leased(let lease):
                return .resume(Granted(lease: lease, mustValidate: false))
            case .validate(let lease):
                return .resume(Granted(lease: lease, mustValidate: true))
            case .failed(let failure):
                return .fail(failure)
            case .mustWait:
                preconditionFailure("the state machine asked for a waiter it was given")
            case .enqueued(let createConnections):
                var wake: UnsafeContinuation<Void, Never>?
                let waiterDeadline = deadline ?? now.advanced(by: configuration.acquireTimeout)
                if state.maintenanceTarget.map({ waiterDeadline < $0 }) ?? true {
                    wake = Self.takeWake(&state)
                }
                let runner = Self.schedule(creates: createConnections, closes: [], in: &state)
                return .waiting(wake: wake, runner: runner)
            }
        }
        switch outcome {
        case .resume(let granted):
            continuation.resume(returning: granted)
        case .fail(let failure):
            continuation.resume(throwing: error(for: failure))
        case .cancelled:
            continuation.resume(throwing: CancellationError())
        case .waiting(let wake, let runner):
            wake?.resume()
            runner?.resume()
        }
    }

    @inlinable
    func validate(_ lease: Machine.Lease) async throws -> Bool {
        let valid = await source.validate(lease.connection)
        perform(state.withLock { $0.machine.validationFinished(lease, succeeded: valid, now: clock.now) })
        if !valid {
            logValidationFailure()
        } else if Task.isCancelled {
            await release(lease)
            throw CancellationError()
        }
        return valid
    }

    /// Records one wait in the metrics (out of line: the lease path stays free of metrics types).
    @usableFromInline
    func recordWait(since start: PoolClock.Instant) {
        metrics?.recordWait(start.duration(to: clock.now))
    }

    /// Logs a failed validation (out of line, like ``recordWait(since:)``).
    @usableFromInline
    func logValidationFailure() {
        logger.debug("connection failed validation and was closed")
    }

    @inlinable
    func release(_ lease: Machine.Lease) async {
        let reset = await source.reset(lease.connection)
        let health = reset ? source.health(of: lease.connection) : .broken
        let now = clock.now
        if let actions = state.withLock({ $0.machine.connectionReleased(lease, health: health, now: now) }) {
            perform(actions)
        }
    }

    // MARK: Running actions

    /// Carries out what the state machine asked for. Called after the lock is released.
    @inlinable
    func perform(_ actions: Machine.Actions) {
        if let (waiter, lease) = actions.handOver {
            waiter.resume(returning: Granted(lease: lease, mustValidate: false))
        }
        if actions.failures.isEmpty, actions.closes.isEmpty, actions.createConnections == 0, actions.leaks.isEmpty,
            !actions.shutdownCompleted, !actions.wakeMaintenance
        {
            return
        }
        performUncommon(actions)
    }

    /// The uncommon part of ``perform(_:)``: failures, leaks, commands for `run()`, shutdown.
    @usableFromInline
    func performUncommon(_ actions: Machine.Actions) {
        for (waiter, failure) in actions.failures {
            waiter.resume(throwing: error(for: failure))
        }
        for leak in actions.leaks {
            logger.info(
                "connection lease held for \(leak.heldFor), longer than leakDetectionThreshold: was it released?",
                metadata: ["connection": "\(leak.connectionID)", "leased_at": "\(leak.location)"])
        }
        let (runner, wake, shutdownWaiters) = state.withLock { state in
            var runner = Self.schedule(creates: actions.createConnections, closes: actions.closes, in: &state)
            if actions.shutdownCompleted, runner == nil {
                // Nothing left to close: `run()` must still hear that the pool is done.
                runner = state.commandWaiter
                state.commandWaiter = nil
            }
            let wake = actions.wakeMaintenance || actions.shutdownCompleted ? Self.takeWake(&state) : nil
            var shutdownWaiters: [UnsafeContinuation<Void, Never>] = []
            if actions.shutdownCompleted {
                state.shutdownCompleted = true
                if !state.isRunning { swap(&shutdownWaiters, &state.shutdownWaiters) }
            }
            return (runner, wake, shutdownWaiters)
        }
        runner?.resume()
        wake?.resume()
        for waiter in shutdownWaiters { waiter.resume() }
    }

    @usableFromInline
    static func schedule(creates: Int, closes: [Machine.Close], in state: inout State)
        -> UnsafeContinuation<Void, Never>?
    {
        guard creates > 0 || !closes.isEmpty else { return nil }
        for _ in 0..<creates { state.commands.append(.create) }
        for close in closes { state.commands.append(.close(close.connection, close.reason)) }
        defer { state.commandWaiter = nil }
        return state.commandWaiter
    }

    @usableFromInline
    static func takeWake(_ state: inout State) -> UnsafeContinuation<Void, Never>? {
        guard let waiter = state.wakeWaiter else {
            state.wakeRequested = true
            return nil
        }
        state.wakeWaiter = nil
        return waiter
    }

    @usableFromInline
    func error(for failure: Machine.Failure) -> PoolError {
        let (statistics, lastError) = state.withLock { ($0.machine.statistics, $0.machine.lastConnectionError) }
        let configuration = self.configuration
        switch failure {
        case .acquireTimeout(let waited):
            return PoolError(
                code: .acquireTimeout,
                message: "timed out after \(waited) waiting for a connection: \(statistics.inUse - statistics.overflowInUse)/"
                    + "\(configuration.maxConnections) in use, \(statistics.overflowInUse)/\(configuration.maxOverflow) "
                    + "overflow in use, \(statistics.waiting) waiting, \(statistics.connecting) connecting. Raise "
                    + "maxConnections or maxOverflow, or find the slow work holding connections.",
                statistics: statistics, lastConnectionError: lastError, waited: waited)
        case .shutdown:
            return PoolError(
                code: .shutdown, message: "the pool is shut down: no more connections are handed out.",
                statistics: statistics, lastConnectionError: lastError, waited: .zero)
        case .connectionUnavailable:
            return PoolError(
                code: .connectionUnavailable,
                message: "no connection is open and opening one failed \(statistics.creationFailures) time(s); "
                    + "the pool retries with back-off. Check that the database is up and reachable.",
                statistics: statistics, lastConnectionError: lastError, waited: .zero)
        }
    }

    // MARK: Background work

    /// Runs the pool's background work until shutdown: opens `minConnections`, opens and closes
    /// connections as the leases need, sweeps timeouts, idle and expired connections, reports leaks
    /// and metrics. Returns once ``shutdown()`` (or a graceful shutdown of the service group, or the
    /// task's cancellation) has closed every connection.
    public func run() async throws {
        let alreadyRunning = state.withLock { state in
            defer { state.isRunning = true }
            return state.isRunning
        }
        precondition(!alreadyRunning, "ConnectionPool.run() must be called once")
        logger.debug("connection pool running", metadata: ["max_connections": "\(configuration.maxConnections)"])
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withDiscardingTaskGroup { group in
                    group.addTask { await self.maintain() }
                    while let commands = await self.nextCommands() {
                        for command in commands {
                            switch command {
                            case .create:
                                group.addTask { await self.openConnection() }
                            case .close(let connection, let reason):
                                group.addTask {
                                    self.logger.debug("closing connection", metadata: ["reason": "\(reason.rawValue)"])
                                    await self.source.close(connection)
                                }
                            }
                        }
                    }
                    // Shut down: the maintenance task stops by itself, the closes finish.
                }
            } onGracefulShutdown: {
                self.beginShutdown()
            }
        } onCancel: {
            self.beginShutdown(immediately: true)
        }
        let waiters = state.withLock { state in
            state.isRunning = false
            defer { state.shutdownWaiters = [] }
            return state.shutdownWaiters
        }
        for waiter in waiters { waiter.resume() }
        logger.debug("connection pool stopped", metadata: ["statistics": "\(statistics)"])
    }

    /// Stops handing out connections, fails the waiters with ``PoolError/Code/shutdown``, waits up to
    /// ``PoolConfiguration/shutdownGracePeriod`` for the leases to come back, closes every connection,
    /// and returns when ``run()`` has finished.
    public func shutdown() async {
        beginShutdown()
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.shutdownCompleted && !state.isRunning { return true }
                state.shutdownWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func beginShutdown(immediately: Bool = false) {
        let now = clock.now
        var actions = state.withLock { $0.machine.shutdownRequested(now: now) }
        if immediately {
            // No grace period: close what is still leased now.
            let forced = state.withLock { $0.machine.timerFired(now: now.advanced(by: configuration.shutdownGracePeriod)) }
            actions.failures += forced.actions.failures
            actions.closes += forced.actions.closes
            actions.shutdownCompleted = actions.shutdownCompleted || forced.actions.shutdownCompleted
        }
        perform(actions)
    }

    /// The next batch of commands for `run()`, or `nil` when the pool has shut down and every
    /// command has been handed out.
    private func nextCommands() async -> [Command]? {
        while true {
            let batch: [Command]? = state.withLock { state in
                if !state.commands.isEmpty {
                    defer { state.commands.removeAll() }
                    return Array(state.commands)
                }
                return state.shutdownCompleted ? nil : []
            }
            guard let batch else { return nil }
            if !batch.isEmpty { return batch }
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if !state.commands.isEmpty || state.shutdownCompleted { return true }
                    state.commandWaiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    private func openConnection() async {
        let outcome = await connectWithTimeout()
        let now = clock.now
        let actions: Machine.Actions
        switch outcome {
        case .success(let connection):
            logger.debug("connection opened")
            actions = state.withLock { $0.machine.connectionCreated(connection, now: now) }
        case .failure(let error):
            logger.info("opening a connection failed", metadata: ["error": "\(error)"])
            let timedOut = source.isTimeout(error)
            actions = state.withLock { $0.machine.connectionFailed(error, timedOut: timedOut, now: now) }
        }
        perform(actions)
    }

    /// Opens a connection, giving up after ``PoolConfiguration/connectTimeout`` on the pool's clock.
    private func connectWithTimeout() async -> Result<Connection, any Error> {
        let timeout = configuration.connectTimeout
        return await withTaskGroup(of: Result<Connection, any Error>?.self) { group in
            group.addTask {
                do {
                    return .success(try await self.source.makeConnection(timeout: timeout))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                do {
                    try await self.clock.sleep(for: timeout)
                } catch {
                    return nil  // cancelled: the connection attempt finished first
                }
                return .failure(ConnectTimeoutError(timeout: timeout, target: self.source.connectionTarget))
            }
            var first: Result<Connection, any Error>?
            while let next = await group.next() {
                guard let result = next else { continue }
                if first == nil {
                    first = result
                    group.cancelAll()
                } else if case .success(let late) = result {
                    await source.close(late)  // opened after the timeout fired
                }
            }
            return first ?? .failure(CancellationError())
        }
    }

    /// Sends the statistics to the metrics factory now; the maintenance sweep also does, every
    /// ``PoolConfiguration/maintenanceInterval``. Gauges get the current values, counters what
    /// changed since the last publication. Does nothing without a ``PoolConfiguration/metricsFactory``.
    public func publishMetrics() {
        metrics?.publish(state.withLock { $0.machine.statistics })
    }

    /// The maintenance task: sleeps until the next deadline (or the maintenance interval), then sweeps.
    private func maintain() async {
        while !Task.isCancelled {
            let now = clock.now
            let (actions, target, done) = state.withLock { state in
                let (actions, next) = state.machine.timerFired(now: now)
                let interval = now.advanced(by: configuration.maintenanceInterval)
                let target = next.map { min($0, interval) } ?? interval
                state.maintenanceTarget = target
                return (actions, target, state.machine.isShutDown)
            }
            perform(actions)
            publishMetrics()
            if done { return }
            await sleep(until: target)
        }
    }

    private func sleep(until target: PoolClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await self.clock.sleep(until: target, tolerance: nil) }
            group.addTask { await self.waitForWake() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForWake() async {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.wakeRequested || Task.isCancelled {
                        state.wakeRequested = false
                        return true
                    }
                    state.wakeWaiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.wakeWaiter = nil }
                return state.wakeWaiter
            }
            waiter?.resume()
        }
    }
}

extension ConnectionPool where PoolClock == ContinuousClock {
    /// Creates a pool on the continuous clock.
    ///
    /// #### Errors
    /// ``PoolConfigurationError`` when the configuration is out of range.
    public convenience init(source: Source, configuration: PoolConfiguration) throws(PoolConfigurationError) {
        try self.init(source: source, configuration: configuration, clock: ContinuousClock())
    }
}
