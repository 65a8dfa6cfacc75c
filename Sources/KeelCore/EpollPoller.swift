#if os(Linux)
import CKeelIO
import Glibc

/// A ``SocketPoller`` on Linux's epoll: every socket is registered once, edge-triggered, for
/// reading, writing and hang-up, so a task's wait costs no system call.
final class EpollPoller: SocketPoller, @unchecked Sendable {
    // @unchecked Sendable: `tokens` and `masks` are used only by the reactor's thread, in `wait`.
    private let epoll: Int32
    /// Signalled by ``wake()``; its epoll token is 0, slots' tokens start at 1.
    private let eventfd: Int32
    private static let eventfdToken: UInt64 = 0
    private static let capacity = 64
    private let tokens = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
    private let masks = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)

    init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed: errno \(errno)")
        eventfd = keel_eventfd()
        precondition(eventfd >= 0, "eventfd failed: errno \(-eventfd)")
        precondition(keel_epoll_add(epoll, eventfd, Self.eventfdToken) == 0, "cannot watch the reactor's eventfd")
    }

    func watch(_ slot: SocketSlot) -> SystemCallError? {
        let result = keel_epoll_add(epoll, slot.socket, slot.token)
        return result == 0 ? nil : SystemCallError(call: "epoll_ctl", errno: -result)
    }

    func unwatch(_ slot: SocketSlot) {
        _ = keel_epoll_remove(epoll, slot.socket)
    }

    func wait(timeout: Int32, slots: Locked<[UInt64: SocketSlot]>, resuming ready: inout [UnsafeContinuation<Void, Never>]) {
        let count = Int(keel_epoll_wait(epoll, tokens, masks, Int32(Self.capacity), timeout))
        guard count > 0 else { return }
        slots.withLock { slots in
            for index in 0..<count {
                if tokens[index] == Self.eventfdToken {
                    keel_eventfd_drain(eventfd)
                } else if let waiter = slots[tokens[index]]?.deliver(masks[index]) {
                    ready.append(waiter)
                }
            }
        }
    }

    func wake() {
        keel_eventfd_signal(eventfd)
    }

    func parked(on slot: SocketSlot) {}
}
#endif
