#if os(Linux)
import CKeelIO
import Glibc
import Synchronization

/// One thread running epoll over the sockets of Keel's network clients (PostgreSQL, Redis): a
/// task that must wait for a socket suspends here, and the reactor resumes it when the socket is
/// ready, its deadline has passed, or it was interrupted.
///
/// Every call that could wait on the network is a non-blocking call plus a ``wait(for:_:)``
/// here, so no cooperative thread is ever parked on I/O. Sockets are registered once,
/// edge-triggered, so a wait costs no system call: readiness that arrives while nobody waits is
/// kept in the socket's ``SocketSlot`` and ends the next wait at once. A wait may end early;
/// callers re-check their condition after every wake-up.
///
/// Deadlines are checked every ``deadlineResolution`` while any slot has one armed: arming one
/// costs an atomic store, no timer and no allocation.
///
/// The reactor is also a `TaskExecutor`: a task that prefers it runs on the reactor's thread,
/// between its epoll waits, so when its socket is ready it resumes on the same thread at once:
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

    /// The process-wide reactor, started on first use.
    package static let shared = SocketReactor()

    /// How often armed deadlines are checked, in milliseconds: a deadline ends a wait at most this
    /// much late.
    package static let deadlineResolution: Int64 = 5

    /// Milliseconds of the monotonic clock deadlines are measured in.
    package static var now: Int64 { keel_monotonic_ms() }

    private let epoll: Int32
    /// The watched sockets by their slot's token, the data of their epoll events.
    private let slots = Locked<[UInt64: SocketSlot]>([:])
    /// The token of the next slot: never reused, so an event read just before its socket was
    /// removed finds no slot rather than the next socket's.
    private let nextToken = Atomic<UInt64>(1)
    private let wakeups = Atomic<Int>(0)
    /// How many slots have a deadline armed.
    private let armedDeadlines = Atomic<Int>(0)
    /// Jobs of tasks that prefer the reactor, and whether the thread sleeps in `epoll_wait` with
    /// no time limit.
    private let jobs = Locked<(queue: [UnownedJob], sleeping: Bool)>(([], false))
    /// Written to wake the thread when a job or a first deadline arrives while it sleeps.
    private let eventfd: Int32
    /// The epoll token of `eventfd`; slots' tokens start at 1.
    private static let eventfdToken: UInt64 = 0

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed: errno \(errno)")
        eventfd = CKeelIO.eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(eventfd >= 0, "eventfd failed: errno \(errno)")
        precondition(keel_epoll_add(epoll, eventfd, Self.eventfdToken) == 0, "cannot watch the reactor's eventfd")
        BlockingThread.start(name: "keel-socket-reactor") { [self] in self.loop() }
    }

    /// How many times the reactor has resumed a waiting task since the process started.
    package var resumedWaits: Int { wakeups.load(ordering: .relaxed) }

    /// Starts watching `socket` through a descriptor of the slot's own.
    ///
    /// A client library (libpq) may close its descriptor as soon as it finds the connection lost,
    /// and the process's next socket may then get the same number. Watched by that number, the new
    /// socket would be removed from the epoll set when the lost connection is closed, and its
    /// answers never heard. The slot's duplicate keeps its number, and the epoll registration,
    /// until ``remove(_:)``.
    ///
    /// - Returns: the slot, or the errno of the failed system call.
    package func add(_ socket: Int32) -> Result<SocketSlot, SystemCallError> {
        let watched = keel_duplicate_fd(socket)
        guard watched >= 0 else { return .failure(SystemCallError(call: "fcntl", errno: -watched)) }
        let slot = SocketSlot(socket: watched, token: nextToken.wrappingAdd(1, ordering: .relaxed).oldValue, reactor: self)
        slots.withLock { $0[slot.token] = slot }
        let result = keel_epoll_add(epoll, watched, slot.token)
        guard result == 0 else {
            slots.withLock { $0[slot.token] = nil }
            _ = Glibc.close(watched)
            return .failure(SystemCallError(call: "epoll_ctl", errno: -result))
        }
        return .success(slot)
    }

    /// Stops watching a slot's socket and closes the slot's descriptor: the slot's socket number
    /// must not be used afterwards.
    package func remove(_ slot: SocketSlot) {
        slot.disarm()
        _ = keel_epoll_remove(epoll, slot.socket)
        slots.withLock { $0[slot.token] = nil }
        slot.deliver(SocketSlot.failure)?.resume()
        _ = Glibc.close(slot.socket)
    }

    /// Suspends until the slot's socket is ready for `interest` (or hung up, or in error), its
    /// deadline passes, or it is interrupted. May return early: the caller re-checks what it
    /// waited for, and ``SocketSlot/interruption``.
    package func wait(for interest: Interest, _ slot: SocketSlot) async {
        let events = interest.events
        if slot.takeReady(events) { return }
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            if slot.takeReadyOrPark(events, continuation) { continuation.resume() }
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
        if wake { _ = eventfd_write(eventfd, 1) }
    }

    func deadlineArmed() {
        guard armedDeadlines.wrappingAdd(1, ordering: .relaxed).oldValue == 0 else { return }
        let wake = jobs.withLock { jobs in
            defer { jobs.sleeping = false }
            return jobs.sleeping
        }
        if wake { _ = eventfd_write(eventfd, 1) }
    }

    func deadlineDisarmed() {
        armedDeadlines.wrappingSubtract(1, ordering: .relaxed)
    }

    private func loop() {
        var running: [UnownedJob] = []
        let capacity = 64
        let tokens = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        let masks = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        var ready: [UnsafeContinuation<Void, Never>] = []
        ready.reserveCapacity(capacity)
        var found: [(SocketSlot, UInt32)] = []
        found.reserveCapacity(capacity)
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
            let count = keel_epoll_wait(epoll, tokens, masks, Int32(capacity), timeout)
            if timeout < 0 { jobs.withLock { $0.sleeping = false } }
            if count > 0 {
                slots.withLock { slots in
                    for index in 0..<Int(count) {
                        if let slot = slots[tokens[index]] { found.append((slot, masks[index])) }
                    }
                }
                for index in 0..<Int(count) where tokens[index] == Self.eventfdToken {
                    var value: eventfd_t = 0
                    _ = eventfd_read(eventfd, &value)
                }
                for (slot, mask) in found {
                    if let waiter = slot.deliver(mask) { ready.append(waiter) }
                }
                found.removeAll(keepingCapacity: true)
            }
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
#endif
