@testable import PostgresPool
import Testing

/// The connection's cancel and timeout logic without a server: every event, and the races the
/// connection must survive (cancel before the statement is sent, a cancel request still in flight
/// when the statement ends, a deadline after the result, a loss while a cancel is in flight).
/// Waiters and timers are plain numbers.
@Suite struct PostgresConnectionStateMachineTests {
    typealias Machine = PostgresConnectionStateMachine<Int, Int>

    @Test func roundTripsAreNumberedAndAQuietOneEndsWithNothingToDo() {
        var machine = Machine()
        let first = machine.startRoundTrip()
        #expect(machine.roundTripInProgress == first)
        let ending = machine.endRoundTrip()
        #expect(!ending.cancelRequested && !ending.timedOut && !ending.mustAwaitCancelRequest && ending.timerToCancel == nil)
        #expect(machine.roundTripInProgress == nil)
        let next = machine.startRoundTrip()
        #expect(next == first + 1)
    }

    @Test func aCancelSendsOneRequestAndStartsTheGraceTimer() {
        var machine = Machine()
        let number = machine.startRoundTrip()
        var actions = machine.cancelRequested(for: number)
        #expect(actions == [.sendCancelRequest, .startGraceTimer])
        #expect(machine.isCancelRequested)
        // A second cancellation of the same round trip sends nothing more.
        actions = machine.cancelRequested(for: number)
        #expect(actions == [])
        let timerToCancel = machine.graceTimerStarted(7, for: number)
        #expect(timerToCancel == nil)
        _ = machine.cancelRequestSent()
        let ending = machine.endRoundTrip()
        #expect(ending.cancelRequested)
        #expect(!ending.mustAwaitCancelRequest)
        #expect(ending.timerToCancel == 7)
    }

    /// Cancel before send: the request is recorded before the statement goes out, so the
    /// connection sees it after preparing and does not run the statement.
    @Test func aCancelBeforeTheStatementIsSentIsSeenBeforeSending() {
        var machine = Machine()
        let number = machine.startRoundTrip()
        _ = machine.cancelRequested(for: number)
        #expect(machine.isCancelRequested)
    }

    /// Cancel during send: the statement ended while the request was in flight; the next round
    /// trip must wait for it, or the request could cancel that one.
    @Test func aStatementThatEndsWhileItsCancelIsInFlightWaitsForTheRequest() {
        var machine = Machine()
        let number = machine.startRoundTrip()
        _ = machine.cancelRequested(for: number)
        let ending = machine.endRoundTrip()
        #expect(ending.mustAwaitCancelRequest)
        var parked = machine.waitForCancelRequest(42)
        #expect(parked)
        let sent = machine.cancelRequestSent()
        #expect(sent.waiter == 42)
        #expect(!sent.freeCancelHandle)
        // Sent before anyone waited: no wait.
        let next = machine.startRoundTrip()
        _ = machine.cancelRequested(for: next)
        _ = machine.cancelRequestSent()
        let endingAfter = machine.endRoundTrip()
        #expect(!endingAfter.mustAwaitCancelRequest)
        parked = machine.waitForCancelRequest(43)
        #expect(!parked)
    }

    @Test func aDeadlineAbandonsTheConnectionAndAsksTheServerToStop() {
        var machine = Machine()
        let number = machine.startRoundTrip()
        var actions = machine.deadlinePassed(for: number)
        #expect(actions == [.shutDownSocket, .wakeWaiter, .sendCancelRequest])
        // Once abandoned, later events of the round trip do nothing.
        actions = machine.deadlinePassed(for: number)
        #expect(actions == [])
        actions = machine.gracePeriodPassed(for: number)
        #expect(actions == [])
        actions = machine.cancelRequested(for: number)
        #expect(actions == [])
        let ending = machine.endRoundTrip()
        #expect(ending.timedOut && ending.cancelRequested)
        // An abandoned connection runs nothing next: no wait for the request in flight.
        #expect(!ending.mustAwaitCancelRequest)
    }

    @Test func aDeadlineAfterACancelDoesNotSendASecondRequest() {
        var machine = Machine()
        let number = machine.startRoundTrip()
        _ = machine.cancelRequested(for: number)
        let actions = machine.deadlinePassed(for: number)
        #expect(actions == [.shutDownSocket, .wakeWaiter])
        let ending = machine.endRoundTrip()
        #expect(ending.timedOut)
    }

    /// Timeout after the result: a timer that fires once its round trip ended touches nothing,
    /// not even the next round trip.
    @Test func aLateTimerTouchesNeitherItsEndedRoundTripNorTheNext() {
        var machine = Machine()
        let first = machine.startRoundTrip()
        _ = machine.endRoundTrip()
        var actions = machine.deadlinePassed(for: first)
        #expect(actions == [])
        let second = machine.startRoundTrip()
        actions = machine.deadlinePassed(for: first)
        #expect(actions == [])
        actions = machine.gracePeriodPassed(for: first)
        #expect(actions == [])
        actions = machine.cancelRequested(for: first)
        #expect(actions == [])
        let timerToCancel = machine.graceTimerStarted(9, for: first)
        #expect(timerToCancel == 9)
        let ending = machine.endRoundTrip()
        #expect(!ending.timedOut)
        #expect(second == first + 1)
    }

    @Test func theGracePeriodAbandonsACancelledStatementThatDoesNotEnd() {
        var machine = Machine()
        let number = machine.startRoundTrip()
        _ = machine.cancelRequested(for: number)
        let actions = machine.gracePeriodPassed(for: number)
        #expect(actions == [.shutDownSocket, .wakeWaiter])
        let ending = machine.endRoundTrip()
        #expect(ending.cancelRequested && !ending.timedOut && !ending.mustAwaitCancelRequest)
    }

    /// Loss during cancel: the connection closes while its cancel request is in flight; the
    /// request's thread frees the cancel handle once it is sent, and nothing shuts a socket that
    /// may belong to another connection by then.
    @Test func closingWhileACancelIsInFlightLeavesTheHandleToTheRequest() {
        var machine = Machine()
        let number = machine.startRoundTrip()
        _ = machine.cancelRequested(for: number)
        let freesHandleNow = machine.close()
        #expect(!freesHandleNow)
        #expect(machine.isClosed)
        var actions = machine.gracePeriodPassed(for: number)
        #expect(actions == [])
        actions = machine.deadlinePassed(for: number)
        #expect(actions == [])
        let sent = machine.cancelRequestSent()
        #expect(sent.freeCancelHandle)
    }

    @Test func closingAnIdleConnectionFreesTheHandleAtOnce() {
        var machine = Machine()
        let freesHandleNow = machine.close()
        #expect(freesHandleNow)
        let number = machine.startRoundTrip()
        let actions = machine.cancelRequested(for: number)
        #expect(actions == [])
    }
}
