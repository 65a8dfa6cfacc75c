import CKeelIO
import Synchronization

/// A socket as the ``SocketReactor`` sees it: the task waiting on it, the readiness the reactor
/// saw while nobody waited, and the deadline or cancellation that ended a wait early.
package final class SocketSlot: Sendable {
    /// Why a wait on the slot ended before its socket was ready.
    package enum Interruption: Sendable, Equatable {
        /// The deadline set with ``arm(deadline:)`` passed.
        case deadline
        /// ``interrupt()`` was called (the waiting task was cancelled).
        case cancellation
    }

    struct State {
        var waiter: UnsafeContinuation<Void, Never>?
        var interest: UInt32 = 0
        /// Events seen with no matching waiter; a wait for them returns at once.
        var ready: UInt32 = 0
        var interruption: Interruption?
    }

    /// The socket has something to read.
    package static let readable = keel_event_readable
    /// The socket takes more to write.
    package static let writable = keel_event_writable
    /// Hang-up and error end every wait: the caller finds out from its next read or write.
    package static let failure = keel_event_failure

    /// The slot's own descriptor of the socket, open until the reactor removes the slot.
    package let socket: Int32
    /// The slot's token, unique in the process: its epoll event's data.
    let token: UInt64
    let state = Locked(State())
    /// The deadline in ``keel_monotonic_ms()`` milliseconds; 0 when none is set.
    let deadline = Atomic<Int64>(0)
    /// How many times the reactor resumed a task waiting on this slot.
    package var resumedWaits: Int { resumed.load(ordering: .relaxed) }
    private let resumed = Atomic<Int>(0)
    private let reactor: SocketReactor

    init(socket: Int32, token: UInt64, reactor: SocketReactor) {
        self.socket = socket
        self.token = token
        self.reactor = reactor
    }

    /// Takes `events` from what was seen while nobody waited; `true` when any was there.
    package func takeReady(_ events: UInt32) -> Bool {
        state.withLock { Self.take(events, from: &$0) }
    }

    /// Takes `events` if they were seen, or else parks `waiter` until the reactor sees them;
    /// `true` when they were there (the caller resumes `waiter` itself).
    func takeReadyOrPark(_ events: UInt32, _ waiter: UnsafeContinuation<Void, Never>) -> Bool {
        state.withLock { state in
            precondition(state.waiter == nil, "two tasks wait on one socket")
            if Self.take(events, from: &state) { return true }
            state.waiter = waiter
            state.interest = events
            return false
        }
    }

    /// What a level-triggered poller watches the socket for: what the waiting task waits for; with
    /// no task waiting, readable (which hang-ups also end), unless readiness is already kept; then
    /// nothing (0), until a task takes it.
    func levelTriggeredInterest() -> UInt32 {
        state.withLock { state in
            if state.waiter != nil { return state.interest }
            return state.ready & (Self.readable | Self.failure) == 0 ? Self.readable : 0
        }
    }

    /// Hang-ups, errors and interruptions stay: every later wait must end at once too.
    private static func take(_ events: UInt32, from state: inout State) -> Bool {
        let found = state.ready & (events | failure)
        state.ready &= ~(events & ~failure)
        return found != 0 || state.interruption != nil
    }

    /// The reactor saw `events`: resumes the waiter they concern, or keeps them for the next wait.
    package func deliver(_ events: UInt32) -> UnsafeContinuation<Void, Never>? {
        state.withLock { state in
            if let waiter = state.waiter, events & (state.interest | Self.failure) != 0 {
                state.ready |= events & ~state.interest
                state.waiter = nil
                resumed.add(1, ordering: .relaxed)
                return waiter
            }
            state.ready |= events
            return nil
        }
    }

    /// Why waits on the slot end early, once its deadline passed or it was interrupted.
    package var interruption: Interruption? {
        state.withLock { $0.interruption }
    }

    /// Ends the current wait and every later one at once, with ``Interruption/cancellation``.
    package func interrupt() {
        end(.cancellation)?.resume()
    }

    func end(_ interruption: Interruption) -> UnsafeContinuation<Void, Never>? {
        state.withLock { state in
            if state.interruption == nil { state.interruption = interruption }
            defer { state.waiter = nil }
            if state.waiter != nil { resumed.add(1, ordering: .relaxed) }
            return state.waiter
        }
    }

    /// Ends waits with ``Interruption/deadline`` once `deadline` (milliseconds of
    /// ``SocketReactor/now``) has passed; the reactor checks every
    /// ``SocketReactor/deadlineResolution``.
    package func arm(deadline: Int64) {
        if self.deadline.exchange(max(deadline, 1), ordering: .relaxed) == 0 { reactor.deadlineArmed() }
    }

    /// Clears the deadline.
    package func disarm() {
        if deadline.exchange(0, ordering: .relaxed) != 0 { reactor.deadlineDisarmed() }
    }
}
