import KeelCore
import Pooling
import SQLCore

/// Carries the statements of many tasks on a few pooled connections at once, in libpq's pipeline
/// mode (see ``PostgresConfiguration/multiplexedConnections``).
///
/// Each *lane* is served, while it has work, by one connection leased from the pool: the lane's
/// driver writes every statement queued since its last turn in one flush, without waiting for
/// earlier results, and hands each result to its caller in order. A lane with nothing queued and
/// nothing in flight gives its connection back to the pool. A statement goes to the lane with
/// the fewest statements queued or in flight.
@usableFromInline final class PostgresMultiplexer: Sendable {
    private struct Lane {
        var queue: [PostgresMultiplexedStatement] = []
        /// Statements queued or in flight.
        var load = 0
        /// A driver serves the lane (or is leasing its connection).
        var active = false
        /// The socket of the driver's connection, to wake it when a statement is queued.
        var slot: SocketSlot?
    }

    private let lanes: Locked<[Lane]>
    private let pool: ConnectionPool<PostgresConnectionSource, ContinuousClock>

    /// A multiplexer of `laneCount` lanes over `pool`'s connections.
    init(laneCount: Int, pool: ConnectionPool<PostgresConnectionSource, ContinuousClock>) {
        lanes = Locked(Array(repeating: Lane(), count: max(laneCount, 1)))
        self.pool = pool
    }

    /// Runs `rendered` on a lane and returns its rows (given to `visitRow` instead, when set) and
    /// the rows it affected.
    ///
    /// #### Errors
    /// ``PostgresError``; a `PoolError` when no connection could be leased; `CancellationError`
    /// when the task is cancelled (its statement may still run: the others on its connection are
    /// left alone); the first error `visitRow` threw.
    func run(
        _ rendered: SQLRenderedStatement, visitRow: (@Sendable (borrowing PostgresRowView) throws -> Void)? = nil
    ) async throws -> PostgresMultiplexedStatement.Outcome {
        let statement = PostgresMultiplexedStatement(rendered: rendered, binds: try PostgresBinds(rendered.binds), visitRow: visitRow)
        let outcome = try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                if statement.park(continuation) {
                    submit(statement)
                } else {
                    continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            statement.cancel()
        }
        // Only `finish` resumes a caller without an error. Its release and this acquiring read
        // order what the connection's task did for the statement (the rows given to `visitRow`)
        // before what the caller does next, by an atomic ThreadSanitizer sees, however the
        // continuation was resumed.
        precondition(statement.isFinished, "a multiplexed statement's caller was resumed before it finished")
        return outcome
    }

    private func submit(_ statement: PostgresMultiplexedStatement) {
        let (lane, start, slot) = lanes.withLock { lanes -> (Int, Bool, SocketSlot?) in
            var chosen = 0
            for index in lanes.indices where lanes[index].load < lanes[chosen].load { chosen = index }
            lanes[chosen].queue.append(statement)
            lanes[chosen].load += 1
            let start = !lanes[chosen].active
            lanes[chosen].active = true
            return (chosen, start, lanes[chosen].slot)
        }
        if start {
            // Detached: the driver serves every caller of the lane, so it is part of no caller's
            // trace (its lease would show as the first caller's) and takes no caller's priority.
            // Where the caller that starts it runs: on the reactor's executor for a caller that
            // prefers it, so that the driver runs on the thread that sees its socket ready and
            // resumes such callers without a thread hop; on the global executor otherwise, beside
            // callers there (on the reactor, each of their statements would wake its thread).
            let executor: (any TaskExecutor)? = SocketReactor.shared.isPreferredByCurrentTask ? SocketReactor.shared : nil
            Task.detached(executorPreference: executor) { [self] in await drive(lane) }
        } else {
            // The driver may be waiting for its socket: a readiness it finds nothing behind wakes it.
            slot?.deliver(SocketSlot.readable)?.resume()
        }
    }

    /// Serves `lane` on leased connections until it has nothing left.
    private func drive(_ lane: Int) async {
        while true {
            do {
                // Returns when the lane has nothing left or the connection was lost; the lane stays
                // active until the connection is back in the pool, so that a statement queued
                // meanwhile waits for this driver instead of leasing a second connection.
                try await pool.withConnection { connection in
                    await connection.serveMultiplexed(lane: lane, of: self)
                }
            } catch {
                // No connection: every statement waiting on the lane fails with the pool's error.
                for statement in stop(lane) { statement.finish(.failure(error)) }
                return
            }
            let more = lanes.withLock { lanes in
                if lanes[lane].queue.isEmpty && lanes[lane].load == 0 {
                    lanes[lane].active = false
                    return false
                }
                return true
            }
            if !more { return }
        }
    }

    /// Whether a driver serves a lane, leases its connection or is giving it back: until it is
    /// done, a statement queued on its lane goes to it rather than to a driver of its own.
    var isServing: Bool {
        lanes.withLock { lanes in lanes.contains { $0.active } }
    }

    /// Marks `lane` stopped and returns what was queued on it.
    private func stop(_ lane: Int) -> [PostgresMultiplexedStatement] {
        lanes.withLock { lanes in
            let queued = lanes[lane].queue
            lanes[lane].queue.removeAll()
            lanes[lane].load -= queued.count
            lanes[lane].active = false
            lanes[lane].slot = nil
            return queued
        }
    }

    /// The driver of `lane` serves it on the connection of `slot` (`nil`: it stopped serving).
    func attach(_ slot: SocketSlot?, to lane: Int) {
        lanes.withLock { $0[lane].slot = slot }
    }

    /// What was queued on `lane` since the driver's last turn, after `finished` statements of the
    /// lane ended; `nil` when nothing is queued and `inFlight` is 0 (the driver gives its
    /// connection back, then looks at the queue again).
    func take(from lane: Int, finished: Int, inFlight: Int) -> [PostgresMultiplexedStatement]? {
        lanes.withLock { lanes in
            lanes[lane].load -= finished
            let queued = lanes[lane].queue
            if queued.isEmpty && inFlight == 0 {
                lanes[lane].slot = nil
                return nil
            }
            lanes[lane].queue.removeAll(keepingCapacity: true)
            return queued
        }
    }

    /// The driver of `lane` lost its connection with `finished` statements ended (the failed
    /// ones included): it serves what is left on another connection when anything is queued.
    func lost(_ lane: Int, finished: Int) {
        lanes.withLock { lanes in
            lanes[lane].load -= finished
            lanes[lane].slot = nil
        }
    }
}
