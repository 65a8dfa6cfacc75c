import CLibPQ
import Foundation
import KeelCore
import Synchronization

/// One thread running epoll over the connections' sockets: a task that must wait for a socket
/// suspends here, and the reactor resumes it when the socket is ready.
///
/// Every libpq call that could wait on the network is replaced by a non-blocking call plus a
/// ``wait(for:_:)`` here, so no cooperative thread is ever parked on I/O. A query costs two
/// thread hops: its task suspends on a cooperative thread, the reactor thread wakes on
/// readiness, and the task resumes on a cooperative thread (a task that prefers the reactor's
/// executor makes none: see below).
///
/// Sockets are registered once, edge-triggered, so a wait costs no system call: readiness that
/// arrives while nobody waits is kept in the socket's ``PostgresSocketSlot`` and ends the next
/// wait at once. A wait may end early; callers re-check their condition after every wake-up.
///
/// The reactor is also a `TaskExecutor`: a task that prefers it (see
/// ``PostgresConnection/taskExecutor``) runs on the reactor's thread, between its epoll waits, so
/// when its socket is ready it resumes on the same thread at once: no thread hop and no wake-up,
/// as pgbench's threads handle the connections they poll.
final class PostgresReactor: TaskExecutor, Sendable {
    /// What a wait waits for.
    enum Interest: Sendable {
        case readable
        /// Writable or readable: a sender must keep reading so the server never blocks on it.
        case writable

        var events: UInt32 {
            switch self {
            case .readable: PostgresSocketSlot.readable
            case .writable: PostgresSocketSlot.readable | PostgresSocketSlot.writable
            }
        }
    }

    /// The process-wide reactor, started on first use.
    static let shared = PostgresReactor()

    private let epoll: Int32
    /// The watched sockets by their slot's token, the data of their epoll events.
    private let slots = Locked<[UInt64: PostgresSocketSlot]>([:])
    /// The token of the next slot: never reused, so an event read just before its socket was
    /// removed finds no slot rather than the next socket's.
    private let nextToken = Atomic<UInt64>(1)
    private let wakeups = Atomic<Int>(0)
    /// Jobs of tasks that prefer the reactor, and whether the thread sleeps in `epoll_wait`.
    private let jobs = Locked<(queue: [UnownedJob], sleeping: Bool)>(([], false))
    /// Written to wake the thread when a job arrives while it sleeps.
    private let eventfd: Int32
    /// The epoll token of `eventfd`; slots' tokens start at 1.
    private static let eventfdToken: UInt64 = 0

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed: errno \(errno)")
        eventfd = CLibPQ.eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(eventfd >= 0, "eventfd failed: errno \(errno)")
        precondition(keel_epoll_add(epoll, eventfd, Self.eventfdToken) == 0, "cannot watch the reactor's eventfd")
        BlockingThread.start(name: "keel-postgres-reactor") { [self] in self.loop() }
    }

    /// How many times the reactor has resumed a waiting task since the process started.
    var resumedWaits: Int { wakeups.load(ordering: .relaxed) }

    /// Starts watching libpq's socket `socket`, through a descriptor of the slot's own.
    ///
    /// libpq closes its descriptor as soon as it finds the connection lost, and the process's next
    /// socket may then get the same number. Watched by that number, the new socket would be
    /// removed from the epoll set when the lost connection is closed, and its answers never
    /// heard. The slot's duplicate keeps its number, and the epoll registration, until
    /// ``remove(_:)``.
    func add(_ socket: Int32) throws(PostgresError) -> PostgresSocketSlot {
        let watched = keel_duplicate_fd(socket)
        guard watched >= 0 else { throw .connection("cannot watch the socket (errno \(-watched))") }
        let slot = PostgresSocketSlot(socket: watched, token: nextToken.wrappingAdd(1, ordering: .relaxed).oldValue)
        slots.withLock { $0[slot.token] = slot }
        let result = keel_epoll_add(epoll, watched, slot.token)
        guard result == 0 else {
            slots.withLock { $0[slot.token] = nil }
            _ = Glibc.close(watched)
            throw .connection("cannot watch the socket (errno \(-result))")
        }
        return slot
    }

    /// Stops watching a slot's socket and closes the slot's descriptor: the slot's socket number
    /// must not be used afterwards.
    func remove(_ slot: PostgresSocketSlot) {
        _ = keel_epoll_remove(epoll, slot.socket)
        slots.withLock { $0[slot.token] = nil }
        slot.deliver(PostgresSocketSlot.failure)?.resume()
        _ = Glibc.close(slot.socket)
    }

    /// Suspends until the slot's socket is ready for `interest` (or hung up, or in error). May
    /// return early: the caller re-checks what it waited for.
    func wait(for interest: Interest, _ slot: PostgresSocketSlot) async {
        let events = interest.events
        if slot.takeReady(events) { return }
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            if slot.takeReadyOrPark(events, continuation) { continuation.resume() }
        }
    }

    /// Runs `job` on the reactor's thread.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let wake = jobs.withLock { jobs in
            jobs.queue.append(job)
            defer { jobs.sleeping = false }
            return jobs.sleeping
        }
        if wake { _ = CLibPQ.eventfd_write(eventfd, 1) }
    }

    private func loop() {
        var running: [UnownedJob] = []
        let capacity = 64
        let tokens = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        let masks = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        var ready: [UnsafeContinuation<Void, Never>] = []
        ready.reserveCapacity(capacity)
        var found: [(PostgresSocketSlot, UInt32)] = []
        found.reserveCapacity(capacity)
        let executor = asUnownedTaskExecutor()
        while true {
            jobs.withLock { swap(&running, &$0.queue) }
            for job in running { job.runSynchronously(on: executor) }
            running.removeAll(keepingCapacity: true)
            let timeout: Int32 = jobs.withLock { jobs in
                jobs.sleeping = jobs.queue.isEmpty
                return jobs.sleeping ? -1 : 0
            }
            let count = keel_epoll_wait(epoll, tokens, masks, Int32(capacity), timeout)
            if timeout != 0 { jobs.withLock { $0.sleeping = false } }
            guard count > 0 else { continue }  // nothing ready, or EINTR
            slots.withLock { slots in
                for index in 0..<Int(count) {
                    if let slot = slots[tokens[index]] { found.append((slot, masks[index])) }
                }
            }
            for index in 0..<Int(count) where tokens[index] == Self.eventfdToken {
                var value: eventfd_t = 0
                _ = CLibPQ.eventfd_read(eventfd, &value)
            }
            for (slot, mask) in found {
                if let waiter = slot.deliver(mask) { ready.append(waiter) }
            }
            found.removeAll(keepingCapacity: true)
            wakeups.add(ready.count, ordering: .relaxed)
            for waiter in ready { waiter.resume() }
            ready.removeAll(keepingCapacity: true)
        }
    }
}
