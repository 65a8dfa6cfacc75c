import CLibPQ
import Foundation
import KeelLocking
import Synchronization

/// One thread running epoll over the connections' sockets: a task that must wait for a socket
/// suspends here, and the reactor resumes it when the socket is ready.
///
/// Every libpq call that could wait on the network is replaced by a non-blocking call plus a
/// ``wait(for:_:)`` here, so no cooperative thread is ever parked on I/O. A query costs two
/// thread hops: its task suspends on a cooperative thread, the reactor thread wakes on
/// readiness, and the task resumes on a cooperative thread.
///
/// Sockets are registered one-shot: each wait arms its socket once (`EPOLL_CTL_MOD`), and the
/// level-triggered arming reports readiness that came before the wait, so no wake-up is lost.
/// A wake-up with no waiter is dropped; callers re-check their condition after every wake-up.
final class PostgresReactor: Sendable {
    /// What a wait waits for.
    enum Interest: Sendable {
        case readable
        /// Writable or readable: a sender must keep reading so the server never blocks on it.
        case writable

        var events: UInt32 {
            switch self {
            case .readable: UInt32(EPOLLIN.rawValue) | UInt32(EPOLLRDHUP.rawValue)
            case .writable: UInt32(EPOLLIN.rawValue) | UInt32(EPOLLOUT.rawValue) | UInt32(EPOLLRDHUP.rawValue)
            }
        }
    }

    /// The process-wide reactor, started on first use.
    static let shared = PostgresReactor()

    private let epoll: Int32
    private let waiters = Locked<[Int32: UnsafeContinuation<Void, Never>]>([:])
    private let wakeups = Atomic<Int>(0)

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed: errno \(errno)")
        let thread = Thread { [self] in self.loop() }
        thread.name = "keel-postgres-reactor"
        thread.start()
    }

    /// How many times the reactor has resumed a waiting task since the process started.
    var resumedWaits: Int { wakeups.load(ordering: .relaxed) }

    /// Adds a socket, not yet armed.
    func add(_ socket: Int32) throws(PostgresError) {
        let result = keel_epoll_arm(epoll, EPOLL_CTL_ADD, socket, 0)
        guard result == 0 else { throw .connection("cannot watch the socket (errno \(-result))") }
    }

    /// Removes a socket; call it before the socket is closed.
    func remove(_ socket: Int32) {
        _ = keel_epoll_remove(epoll, socket)
        let waiter = waiters.withLock { $0.removeValue(forKey: socket) }
        waiter?.resume()
    }

    /// Suspends until `socket` is ready for `interest` (or hung up, or in error). May return
    /// early: the caller re-checks what it waited for.
    func wait(for interest: Interest, _ socket: Int32) async {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let previous = waiters.withLock { $0.updateValue(continuation, forKey: socket) }
            precondition(previous == nil, "two tasks wait on one PostgreSQL socket")
            if keel_epoll_arm(epoll, EPOLL_CTL_MOD, socket, interest.events) != 0 {
                // The socket is gone: let the caller find out from libpq.
                waiters.withLock { $0.removeValue(forKey: socket) }?.resume()
            }
        }
    }

    private func loop() {
        let capacity = 64
        let sockets = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        let masks = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        var ready: [UnsafeContinuation<Void, Never>] = []
        ready.reserveCapacity(capacity)
        while true {
            let count = keel_epoll_wait(epoll, sockets, masks, Int32(capacity), -1)
            guard count > 0 else { continue }  // EINTR
            waiters.withLock { waiters in
                for index in 0..<Int(count) {
                    if let waiter = waiters.removeValue(forKey: sockets[index]) { ready.append(waiter) }
                }
            }
            wakeups.add(ready.count, ordering: .relaxed)
            for waiter in ready { waiter.resume() }
            ready.removeAll(keepingCapacity: true)
        }
    }
}
