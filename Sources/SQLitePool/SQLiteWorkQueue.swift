import CSQLite3
import DequeModule
import Foundation
import KeelCore
import Synchronization

/// A FIFO of work served by a connection's thread: each ``SQLiteWorker`` has one, and so has a
/// transaction's lease on the writer (``SQLiteLeaseJob``).
///
/// Callers ``enqueue(_:)`` from any task; the connection thread loops on ``next(runningOn:)``,
/// sleeping on the lock's condition while the queue is empty. Cancellation marks a waiting item
/// finished (the thread skips it) and resumes its caller at once, or interrupts the statement
/// of a running one. After ``close()``, new work is refused and the threads leave once the
/// queue is empty.
final class SQLiteWorkQueue: @unchecked Sendable {
    // @unchecked Sendable: every stored var, and the `state` of every item in `items`, is read
    // and written only while `lock` is held.
    private let lock = ConditionLock()
    private var items = Deque<any SQLiteWorkItem>()
    private var isClosed = false
    private var idleThreads = 0
    private var liveThreads = 0
    private var exitWaiters: [UnsafeContinuation<Void, Never>] = []
    private var waitingCount = 0
    /// `waitingCount`, readable without the lock by a thread spinning for work.
    private let waitingHint = Atomic<Int>(0)
    private var runningCount = 0
    /// The error work gets when the queue is closed.
    private let closedError: SQLiteError

    init(closedError: SQLiteError = .closed) {
        self.closedError = closedError
    }

    /// Runs `body` under the queue's lock (work items keep their outcome under it).
    func locked<T>(_ body: () -> T) -> T {
        lock.withLock(body)
    }

    // MARK: Callers

    /// Adds work at the back; resumes it with an error instead when it was cancelled before
    /// it got here or the queue is closed.
    func enqueue(_ work: any SQLiteWorkItem) {
        enum Outcome { case cancelled, closed, queued(wake: Bool) }
        let outcome: Outcome = lock.withLock {
            if case .finished = work.state { return .cancelled }
            if isClosed {
                work.state = .finished
                return .closed
            }
            work.state = .queued
            items.append(work)
            waitingCount += 1
            waitingHint.store(waitingCount, ordering: .relaxed)
            return .queued(wake: idleThreads > 0)
        }
        switch outcome {
        case .cancelled: work.resume(throwing: CancellationError())
        case .closed: work.resume(throwing: closedError)
        case .queued(let wake): if wake { lock.signal() }
        }
    }

    /// The cancellation of a work's task: a waiting item leaves the queue and throws
    /// `CancellationError`; a running one has its statement interrupted.
    func cancel(_ work: any SQLiteWorkItem) {
        let resume: Bool = lock.withLock {
            switch work.state {
            case .pending:
                // Not queued yet: `enqueue` will see it finished and resume it.
                work.state = .finished
                return false
            case .queued:
                work.state = .finished
                waitingCount -= 1
                waitingHint.store(waitingCount, ordering: .relaxed)
                return true
            case .running(let interrupter):
                work.isCancelRequested = true
                // Under the lock, so the connection cannot have moved on to other work: the thread
                // takes the lock to finish this item before it takes the next (and resets the flag).
                interrupter.interrupt()
                return false
            case .finished:
                return false
            }
        }
        if resume { work.resume(throwing: CancellationError()) }
    }

    /// The number of items waiting, and the number running.
    var counts: (waiting: Int, running: Int) {
        locked { (waitingCount, runningCount) }
    }

    // MARK: Connection threads

    /// Registers a connection thread serving this queue.
    func threadStarted() {
        locked { liveThreads += 1 }
    }

    /// The next work for the connection `interrupter` stops, waiting while there is none; `nil`
    /// once the queue is closed and empty.
    ///
    /// An empty queue is first watched for up to ``spinDuration`` before the thread sleeps: a
    /// caller that sends its next work soon after the last one's result (a loop of statements or
    /// transactions) then finds the thread awake, which saves a futex wake-up, 20-40 µs on a
    /// virtual machine. The watch is as long as a caller takes to be resumed on a busy machine
    /// (about 80 µs on the 2-core machine of BENCHMARKS.md) and to come back, with room to spare.
    func next(runningOn interrupter: SQLiteInterrupter) -> (any SQLiteWorkItem)? {
        switch lock.withLock({ take(runningOn: interrupter) }) {
        case .work(let work): return work
        case .closed: return nil
        case .none: spinUntilWorkArrives()
        }
        return lock.withLock {
            while true {
                switch take(runningOn: interrupter) {
                case .work(let work): return work
                case .closed: return nil
                case .none:
                    idleThreads += 1
                    lock.wait()
                    idleThreads -= 1
                }
            }
        }
    }

    private enum Taken {
        case work(any SQLiteWorkItem)
        case closed
        case none
    }

    /// The first queued item, now running on `interrupter`'s connection. Called under the lock.
    private func take(runningOn interrupter: SQLiteInterrupter) -> Taken {
        while let work = items.popFirst() {
            if case .queued = work.state {
                interrupter.reset()
                work.state = .running(interrupter)
                waitingCount -= 1
                waitingHint.store(waitingCount, ordering: .relaxed)
                runningCount += 1
                return .work(work)
            }
        }
        return isClosed ? .closed : .none
    }

    /// How long a connection thread watches an empty queue before it sleeps.
    static let spinDuration: Duration = .microseconds(200)

    /// Returns when work may be waiting, or after ``spinDuration``; yields the processor between
    /// looks so a spinning thread never keeps a runnable one off a core.
    private func spinUntilWorkArrives() {
        let deadline = ContinuousClock.now + Self.spinDuration
        while waitingHint.load(ordering: .relaxed) == 0 && ContinuousClock.now < deadline {
            sched_yield()
        }
    }

    /// Marks running work finished; returns whether its task was cancelled meanwhile.
    func finish(_ work: any SQLiteWorkItem) -> Bool {
        locked {
            work.state = .finished
            runningCount -= 1
            return work.isCancelRequested
        }
    }

    /// A connection thread has left ``next(runningOn:)`` for good and closed its connection.
    func threadExited() {
        let waiters: [UnsafeContinuation<Void, Never>] = locked {
            liveThreads -= 1
            guard liveThreads == 0 else { return [] }
            defer { exitWaiters = [] }
            return exitWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Closing

    /// Refuses new work from now on; the threads finish what is queued, then leave.
    func close() {
        locked { isClosed = true }
        lock.broadcast()
    }

    /// Closes the queue and waits until every connection thread has left.
    func closeAndWait() async {
        close()
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let done: Bool = locked {
                guard liveThreads > 0 else { return true }
                exitWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
