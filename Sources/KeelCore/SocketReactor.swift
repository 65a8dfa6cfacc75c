import CKeelIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// One thread waiting on the sockets of Keel's network clients (PostgreSQL, Redis): a task that
/// must wait for a socket suspends here, and the reactor resumes it when the socket is ready, its
/// deadline has passed, or it was interrupted.
///
/// Every call that could wait on the network is a non-blocking call plus a ``wait(for:_:)``
/// here, so no cooperative thread is ever parked on I/O. Readiness that arrives while nobody
/// waits is kept in the socket's ``SocketSlot`` and ends the next wait at once. A wait may end
/// early; callers re-check their condition after every wake-up.
///
/// It waits with a ``Backend``: epoll on Linux, where sockets are registered once,
/// edge-triggered, so a wait costs no system call; `poll(2)` on every POSIX system.
///
/// Deadlines are checked every ``deadlineResolution`` while any slot has one armed: arming one
/// costs an atomic store, no timer and no allocation.
///
/// The reactor is also a `TaskExecutor`: a task that prefers it runs on the reactor's thread,
/// between its waits for sockets, so when its socket is ready it resumes on the same thread at once:
/// no thread hop and no wake-up.
package final class SocketReactor: TaskExecutor, Sendable {
    /// What a wait waits for.
    package enum Interest: Sendable {
        case readable
        /// Writable or readable: a sender must keep reading so the server never blocks on it.
        case writable

        var events: UInt32 {
            switch self {
            case .readable: SocketSlot.readable
            case .writable: SocketSlot.readable | SocketSlot.writable
            }
        }
    }

    /// What a reactor waits with.
    package enum Backend: String, Sendable, CaseIterable {
        /// Linux's epoll, edge-triggered: a wait costs no system call.
        case epoll
        /// `poll(2)`, on every POSIX system: a system call per wait and a walk over the sockets
        /// per turn.
        case poll

        /// The backends this platform has.
        package static var available: [Backend] {
            #if os(Linux)
            [.epoll, .poll]
            #else
            [.poll]
            #endif
        }

        /// `KEEL_REACTOR` from the environment (`epoll` or `poll`) when this platform has it;
        /// otherwise epoll on Linux and poll elsewhere.
        package static var standard: Backend {
            if let name = getenv("KEEL_REACTOR").map({ String(cString: $0) }), let chosen = Backend(rawValue: name),
                available.contains(chosen)
            {
                return chosen
            }
            return available[0]
        }
    }

    /// The process-wide reactor, started on first use, on ``Backend/standard``.
    package static let shared = SocketReactor(backend: .standard)

    /// How often armed deadlines are checked, in milliseconds: a deadline ends a wait at most this
    /// much late.
    package static let deadlineResolution: Int64 = 5

    /// Milliseconds of the monotonic clock deadlines are measured in.
    package static var now: Int64 { keel_monotonic_ms() }

    /// What this reactor waits with.
    package let backend: Backend
    private let poller: any SocketPoller
    /// The watched sockets by their slot's token.
    private let slots = Locked<[UInt64: SocketSlot]>([:])
    /// The token of the next slot: never reused, so an event read just before its socket was
    /// removed finds no slot rather than the next socket's.
    private let nextToken = Atomic<UInt64>(1)
    private let wakeups = Atomic<Int>(0)
    /// How many slots have a deadline armed.
    private let armedDeadlines = Atomic<Int>(0)
    /// Jobs of tasks that prefer the reactor, and whether the thread waits with no time limit.
    private let jobs = Locked<(queue: [UnownedJob], sleeping: Bool)>(([], false))

    /// Starts a reactor and its thread, which runs for the rest of the process.
    ///
    /// - Precondition: `backend` is one of ``Backend/available``.
    package init(backend: Backend) {
        precondition(Backend.available.contains(backend), "the \(backend) reactor is not available on this platform")
        self.backend = backend
        #if os(Linux)
        poller = backend == .epoll ? EpollPoller() : PollPoller()
        #else
        poller = PollPoller()
        #endif
        BlockingThread.start(name: "keel-socket-reactor") { [self] in self.loop() }
    }

    /// How many times the reactor has resumed a waiting task since the process started.
    package var resumedWaits: Int { wakeups.load(ordering: .relaxed) }

    /// Starts watching `socket` through a descriptor of the slot's own.
    ///
    /// A client library (libpq) may close its descriptor as soon as it finds the connection lost,
    /// and the process's next socket may then get the same number. Watched by that number, the new
    /// socket would be removed from the epoll set (or watched as the lost one) when the lost
    /// connection is closed, and its answers never heard. The slot's duplicate keeps its number,
    /// and its registration, until ``remove(_:)``.
    ///
    /// - Returns: the slot, or the errno of the failed system call.
    package func add(_ socket: Int32) -> Result<SocketSlot, SystemCallError> {
        let watched = keel_duplicate_fd(socket)
        guard watched >= 0 else { return .failure(SystemCallError(call: "fcntl", errno: -watched)) }
        let slot = SocketSlot(socket: watched, token: nextToken.wrappingAdd(1, ordering: .relaxed).oldValue, reactor: self)
        slots.withLock { $0[slot.token] = slot }
        if let error = poller.watch(slot) {
            slots.withLock { $0[slot.token] = nil }
            keel_close(watched)
            return .failure(error)
        }
        return .success(slot)
    }

    /// Stops watching a slot's socket and closes the slot's descriptor: the slot's socket number
    /// must not be used afterwards.
    package func remove(_ slot: SocketSlot) {
        slot.disarm()
        poller.unwatch(slot)
        slots.withLock { $0[slot.token] = nil }
        slot.deliver(SocketSlot.failure)?.resume()
        keel_close(slot.socket)
    }

    /// Suspends until the slot's socket is ready for `interest` (or hung up, or in error), its
    /// deadline passes, or it is interrupted. May return early: the caller re-checks what it
    /// waited for, and ``SocketSlot/interruption``.
    package func wait(for interest: Interest, _ slot: SocketSlot) async {
        let events = interest.events
        if slot.takeReady(events) { return }
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            if slot.takeReadyOrPark(events, continuation) {
                continuation.resume()
            } else {
                poller.parked(on: slot)
            }
        }
    }

    /// Runs `job` on the reactor's thread.
    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let wake = jobs.withLock { jobs in
            jobs.queue.append(job)
            defer { jobs.sleeping = false }
            return jobs.sleeping
        }
        if wake { poller.wake() }
    }

    func deadlineArmed() {
        guard armedDeadlines.wrappingAdd(1, ordering: .relaxed).oldValue == 0 else { return }
        let wake = jobs.withLock { jobs in
            defer { jobs.sleeping = false }
            return jobs.sleeping
        }
        if wake { poller.wake() }
    }

    func deadlineDisarmed() {
        armedDeadlines.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Whether the calling task prefers this reactor as its executor (created with
    /// `addTask(executorPreference:)` or inside `withTaskExecutorPreference`).
    package var isPreferredByCurrentTask: Bool {
        withUnsafeCurrentTask { $0?.unownedTaskExecutor == asUnownedTaskExecutor() }
    }

    private func loop() {
        var running: [UnownedJob] = []
        var ready: [UnsafeContinuation<Void, Never>] = []
        ready.reserveCapacity(64)
        var nextDeadlineCheck: Int64 = 0
        let executor = asUnownedTaskExecutor()
        while true {
            jobs.withLock { swap(&running, &$0.queue) }
            for job in running { job.runSynchronously(on: executor) }
            running.removeAll(keepingCapacity: true)
            let timeout: Int32 = jobs.withLock { jobs in
                if !jobs.queue.isEmpty { return 0 }
                if armedDeadlines.load(ordering: .relaxed) > 0 { return Int32(Self.deadlineResolution) }
                jobs.sleeping = true
                return -1
            }
            poller.wait(timeout: timeout, slots: slots, resuming: &ready)
            if timeout < 0 { jobs.withLock { $0.sleeping = false } }
            if armedDeadlines.load(ordering: .relaxed) > 0 {
                let now = Self.now
                if now >= nextDeadlineCheck {
                    nextDeadlineCheck = now + Self.deadlineResolution
                    slots.withLock { slots in
                        for slot in slots.values {
                            let deadline = slot.deadline.load(ordering: .relaxed)
                            if deadline != 0, deadline <= now, let waiter = slot.end(.deadline) { ready.append(waiter) }
                        }
                    }
                }
            }
            wakeups.add(ready.count, ordering: .relaxed)
            for waiter in ready { waiter.resume() }
            ready.removeAll(keepingCapacity: true)
        }
    }
}
