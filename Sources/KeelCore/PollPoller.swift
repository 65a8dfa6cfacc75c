import CKeelIO
import Synchronization

/// A ``SocketPoller`` on `poll(2)`, which every POSIX system has.
///
/// `poll` is level-triggered and takes its set anew at every call, so each wait watches, per
/// socket, what a task waits for, or else whether it became readable or hung up while idle; a
/// socket whose readiness is already kept in its slot is left out until a task takes it, so an
/// unread answer does not end every wait. A task that parks wakes the poller to be watched.
/// It costs a system call per parked wait and a walk over every socket per turn, where epoll
/// costs neither: it is the portable path, and the tested one on Linux with `KEEL_REACTOR=poll`.
final class PollPoller: SocketPoller, @unchecked Sendable {
    // @unchecked Sendable: `entries` and `watched` are used only by the reactor's thread, in `wait`.
    private let wakeReader: Int32
    private let wakeWriter: Int32
    /// Set when a byte is (being) written to the pipe and not yet drained.
    private let wakePending = Atomic<Bool>(false)
    private var entries: [pollfd] = []
    private var watched: [SocketSlot] = []

    init() {
        var fds: [Int32] = [0, 0]
        let result = keel_pipe(&fds)
        precondition(result == 0, "pipe failed: errno \(-result)")
        wakeReader = fds[0]
        wakeWriter = fds[1]
    }

    func watch(_ slot: SocketSlot) -> SystemCallError? {
        // Watched from the next turn on, so a hang-up while idle is seen before the next statement.
        wake()
        return nil
    }

    func unwatch(_ slot: SocketSlot) {}

    func wait(timeout: Int32, slots: Locked<[UInt64: SocketSlot]>, resuming ready: inout [UnsafeContinuation<Void, Never>]) {
        entries.removeAll(keepingCapacity: true)
        watched.removeAll(keepingCapacity: true)
        entries.append(pollfd(fd: wakeReader, events: keel_poll_events(keel_event_readable), revents: 0))
        slots.withLock { slots in
            for slot in slots.values {
                let interest = slot.levelTriggeredInterest()
                entries.append(pollfd(fd: interest == 0 ? -1 : slot.socket, events: keel_poll_events(interest), revents: 0))
                watched.append(slot)
            }
        }
        let count = entries.withUnsafeMutableBufferPointer { keel_poll($0.baseAddress, UInt($0.count), timeout) }
        guard count > 0 else { return }
        if entries[0].revents != 0 {
            keel_pipe_drain(wakeReader)
            // Cleared after draining and before the next set is built: a task parked meanwhile
            // either is in that set or writes again.
            wakePending.store(false, ordering: .sequentiallyConsistent)
        }
        for index in watched.indices where entries[index + 1].revents != 0 {
            if let waiter = watched[index].deliver(keel_poll_found(entries[index + 1].revents)) { ready.append(waiter) }
        }
    }

    func wake() {
        if !wakePending.exchange(true, ordering: .sequentiallyConsistent) { keel_pipe_signal(wakeWriter) }
    }

    func parked(on slot: SocketSlot) {
        wake()
    }
}
