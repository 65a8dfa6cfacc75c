/// The system facility a ``SocketReactor`` waits with: ``EpollPoller`` (Linux) or ``PollPoller``
/// (`poll(2)`, every POSIX system).
///
/// Only the reactor's thread calls ``wait(timeout:slots:resuming:)``; the other calls come from any
/// thread.
protocol SocketPoller: Sendable {
    /// Starts watching `slot`'s socket; `nil`, or the system call that failed.
    func watch(_ slot: SocketSlot) -> SystemCallError?

    /// Stops watching `slot`'s socket (before the reactor closes it).
    func unwatch(_ slot: SocketSlot)

    /// Waits at most `timeout` milliseconds (-1: no limit) for a watched socket or a ``wake()``,
    /// and delivers each ready slot's `keel_event_…` bits to it (``SocketSlot/deliver(_:)``),
    /// appending the task that wakes, if any, to `ready`.
    func wait(timeout: Int32, slots: Locked<[UInt64: SocketSlot]>, resuming ready: inout [UnsafeContinuation<Void, Never>])

    /// Ends the wait in progress, or else the next one, at once.
    func wake()

    /// A task has just parked on `slot`: a poller that watches only what tasks wait for looks
    /// again.
    func parked(on slot: SocketSlot)
}
