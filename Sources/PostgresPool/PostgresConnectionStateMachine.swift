/// The cancel and timeout logic of one ``PostgresConnection``, without I/O: events (a statement
/// starts, its task is cancelled, the cancel request was sent, a deadline passed, the statement
/// ends, the connection closes) update the state and return what the connection must do.
///
/// A connection runs one statement at a time (its *round trip*, numbered so that a late timer
/// cannot touch a later one). A cancel request is sent at most once per round trip, from a thread
/// of its own; while it is in flight the next round trip must not begin, or the request could
/// cancel it. A statement abandoned (its deadline or the cancel's grace period passed) has its
/// socket shut down and its waiting task woken, and the connection is lost.
///
/// Generic over the waiter that waits for a cancel request in flight and over the timer of the
/// grace period, so that tests drive it with plain values.
struct PostgresConnectionStateMachine<Waiter, Timer> {
    /// What the connection must do after an event.
    struct Actions: OptionSet {
        let rawValue: UInt8

        /// Send a cancel request (on a thread of its own), then report ``cancelRequestSent()``.
        static var sendCancelRequest: Actions { Actions(rawValue: 1 << 0) }
        /// Start the grace-period timer, then hand it over with ``graceTimerStarted(_:for:)``.
        static var startGraceTimer: Actions { Actions(rawValue: 1 << 1) }
        /// Mark the connection lost and shut its socket down (under the connection's lock, and
        /// only while it is not closed: a closed connection's socket number may be another's).
        static var shutDownSocket: Actions { Actions(rawValue: 1 << 2) }
        /// Wake the task waiting for the socket: its statement fails as a lost connection.
        static var wakeWaiter: Actions { Actions(rawValue: 1 << 3) }
    }

    /// What a round trip ended with, from ``endRoundTrip()``.
    struct Ending {
        /// A cancel request was sent for it: a failure then reads as a cancellation.
        var cancelRequested: Bool
        /// Its deadline passed: a failure then reads as a timeout.
        var timedOut: Bool
        /// A cancel request is still in flight: wait with ``waitForCancelRequest(_:)`` before the
        /// next round trip.
        var mustAwaitCancelRequest: Bool
        /// A grace-period timer to cancel.
        var timerToCancel: Timer?
    }

    private struct RoundTrip {
        var number: UInt64
        var cancelRequested = false
        var timedOut = false
        var abandoned = false
        var graceTimer: Timer?
    }

    private var lastNumber: UInt64 = 0
    private var current: RoundTrip?
    private var cancelInFlight = false
    private var cancelWaiter: Waiter?
    private var closed = false
    private var freeCancelHandleWhenSent = false

    /// Whether a cancel request was sent for the round trip in progress.
    var isCancelRequested: Bool { current?.cancelRequested ?? false }

    /// The number of the round trip in progress, if any.
    var roundTripInProgress: UInt64? { current?.number }

    /// Whether the connection was closed.
    var isClosed: Bool { closed }

    /// A round trip begins; returns its number.
    mutating func startRoundTrip() -> UInt64 {
        precondition(current == nil, "a round trip is in progress")
        lastNumber &+= 1
        current = RoundTrip(number: lastNumber)
        return lastNumber
    }

    /// The task of round trip `number` was cancelled (or its row handler failed).
    mutating func cancelRequested(for number: UInt64) -> Actions {
        guard !closed, var roundTrip = current, roundTrip.number == number, !roundTrip.cancelRequested else { return [] }
        roundTrip.cancelRequested = true
        current = roundTrip
        cancelInFlight = true
        return [.sendCancelRequest, .startGraceTimer]
    }

    /// The grace-period timer of round trip `number` started; returns it when that round trip has
    /// already ended (the caller cancels it).
    mutating func graceTimerStarted(_ timer: Timer, for number: UInt64) -> Timer? {
        guard var roundTrip = current, roundTrip.number == number else { return timer }
        roundTrip.graceTimer = timer
        current = roundTrip
        return nil
    }

    /// The cancel request was sent (or failed to be): returns the waiter to resume, if one waits
    /// for it, and whether to free the cancel handle (the connection closed meanwhile).
    mutating func cancelRequestSent() -> (waiter: Waiter?, freeCancelHandle: Bool) {
        cancelInFlight = false
        defer { cancelWaiter = nil }
        return (cancelWaiter, freeCancelHandleWhenSent)
    }

    /// Round trip `number`'s deadline (the query timeout) passed.
    mutating func deadlinePassed(for number: UInt64) -> Actions {
        guard var actions = abandon(number) else { return [] }
        current?.timedOut = true
        if current?.cancelRequested == false {
            // The server must stop the work even though the caller has already been answered.
            current?.cancelRequested = true
            cancelInFlight = true
            actions.insert(.sendCancelRequest)
        }
        return actions
    }

    /// The grace period after round trip `number`'s cancel request passed.
    mutating func gracePeriodPassed(for number: UInt64) -> Actions {
        abandon(number) ?? []
    }

    private mutating func abandon(_ number: UInt64) -> Actions? {
        guard !closed, var roundTrip = current, roundTrip.number == number, !roundTrip.abandoned else { return nil }
        roundTrip.abandoned = true
        current = roundTrip
        return [.shutDownSocket, .wakeWaiter]
    }

    /// The round trip in progress ended (its results were read, or it failed).
    mutating func endRoundTrip() -> Ending {
        guard let roundTrip = current else {
            return Ending(cancelRequested: false, timedOut: false, mustAwaitCancelRequest: false, timerToCancel: nil)
        }
        current = nil
        return Ending(
            cancelRequested: roundTrip.cancelRequested, timedOut: roundTrip.timedOut,
            // An abandoned connection runs no next round trip: nothing to wait for.
            mustAwaitCancelRequest: cancelInFlight && !roundTrip.abandoned, timerToCancel: roundTrip.graceTimer)
    }

    /// Parks `waiter` until the cancel request in flight was sent; `false` when it was sent
    /// already (the caller goes on at once).
    mutating func waitForCancelRequest(_ waiter: Waiter) -> Bool {
        guard cancelInFlight else { return false }
        precondition(cancelWaiter == nil, "two waiters for one cancel request")
        cancelWaiter = waiter
        return true
    }

    /// The connection closes; returns whether to free the cancel handle now (otherwise the cancel
    /// request in flight still uses it, and ``cancelRequestSent()`` says to free it).
    mutating func close() -> Bool {
        closed = true
        freeCancelHandleWhenSent = cancelInFlight
        return !cancelInFlight
    }
}
