import CLibPQ
import KeelCore

/// A connection's socket as the reactor sees it: the task waiting on it, and the readiness the
/// reactor saw while nobody waited.
final class PostgresSocketSlot: Sendable {
    struct State {
        var waiter: UnsafeContinuation<Void, Never>?
        var interest: UInt32 = 0
        /// Events seen with no matching waiter; a wait for them returns at once.
        var ready: UInt32 = 0
    }

    static let readable = UInt32(EPOLLIN.rawValue)
    static let writable = UInt32(EPOLLOUT.rawValue)
    /// Hang-up and error end every wait: the caller finds out from libpq.
    static let failure = UInt32(EPOLLERR.rawValue) | UInt32(EPOLLHUP.rawValue) | UInt32(EPOLLRDHUP.rawValue)

    /// The slot's own descriptor of the connection's socket (a duplicate of libpq's, which libpq
    /// closes when it finds the connection lost), open until the reactor removes the slot.
    let socket: Int32
    /// The slot's epoll token, unique in the process.
    let token: UInt64
    let state = Locked(State())

    init(socket: Int32, token: UInt64) {
        self.socket = socket
        self.token = token
    }

    /// Takes `events` from what was seen while nobody waited; `true` when any was there.
    func takeReady(_ events: UInt32) -> Bool {
        state.withLock { Self.take(events, from: &$0) }
    }

    /// Takes `events` if they were seen, or else parks `waiter` until the reactor sees them;
    /// `true` when they were there (the caller resumes `waiter` itself).
    func takeReadyOrPark(_ events: UInt32, _ waiter: UnsafeContinuation<Void, Never>) -> Bool {
        state.withLock { state in
            precondition(state.waiter == nil, "two tasks wait on one PostgreSQL socket")
            if Self.take(events, from: &state) { return true }
            state.waiter = waiter
            state.interest = events
            return false
        }
    }

    /// Hang-ups and errors stay: every later wait must end at once too.
    private static func take(_ events: UInt32, from state: inout State) -> Bool {
        let found = state.ready & (events | failure)
        state.ready &= ~(events & ~failure)
        return found != 0
    }

    /// The reactor saw `events`: resumes the waiter they concern, or keeps them for the next wait.
    func deliver(_ events: UInt32) -> UnsafeContinuation<Void, Never>? {
        state.withLock { state in
            if let waiter = state.waiter, events & (state.interest | Self.failure) != 0 {
                state.ready |= events & ~state.interest
                state.waiter = nil
                return waiter
            }
            state.ready |= events
            return nil
        }
    }
}
