import CKeelIO
import CLibPQ
import KeelCore
import SQLCore

/// Serving a lane of a ``PostgresMultiplexer``: many callers' statements on this connection at
/// once, in libpq's pipeline mode.
extension PostgresConnection {
    /// What the connection sent and awaits, in order: each ends with its own sync point, so an
    /// error ends only its own entry.
    private struct Sent {
        enum Kind {
            /// A caller's statement.
            case statement(PostgresMultiplexedStatement)
            /// The preparation of the next entry's statement (its failure is that statement's).
            case preparation(PostgresStatementCache.Key)
            /// A `DEALLOCATE` of a statement the cache evicted.
            case deallocation
        }

        let kind: Kind
        var reader: PostgresResultReader
        /// The prepared statement a caller's statement ran, to keep the columns its result had.
        var key: PostgresStatementCache.Key?
    }

    /// Serves `lane` of `multiplexer` until the lane has nothing queued or in flight, or the
    /// connection is lost (its callers have then failed, and the multiplexer was told).
    ///
    /// Each turn writes everything queued since the last one in one flush, then hands over every
    /// result that has arrived, then waits for the socket (a newly queued statement wakes it).
    func serveMultiplexed(lane: Int, of multiplexer: PostgresMultiplexer) async {
        var sent: [Sent] = []
        var head = 0
        var finished = 0
        /// Fails everything in flight (and `pending`, taken but not sent) with `error`: the
        /// connection is lost and the pool discards it.
        func giveUp(_ error: any Error, pending: ArraySlice<PostgresMultiplexedStatement> = []) {
            lost.store(true, ordering: .relaxed)
            for entry in sent[head...] {
                if case .statement(let statement) = entry.kind {
                    statement.finish(.failure(error))
                    finished += 1
                }
            }
            for statement in pending { statement.finish(.failure(error)) }
            multiplexer.lost(lane, finished: finished + pending.count)
        }
        do {
            try checkAliveBeforeSend()
        } catch {
            multiplexer.lost(lane, finished: 0)
            return
        }
        guard PQenterPipelineMode(handle) == 1 else { return giveUp(connectionError()) }
        defer { if !lost.load(ordering: .relaxed) { PQexitPipelineMode(handle) } }
        multiplexer.attach(slot, to: lane)
        var lastProgress = SocketReactor.now
        while true {
            // Callers this driver resumed last turn run first and queue their next statements,
            // which then go out together.
            await Task.yield()
            let inFlight = sent.count - head
            guard let batch = multiplexer.take(from: lane, finished: finished, inFlight: inFlight) else { return }
            finished = 0
            if head > 256 && head * 2 > sent.count {
                sent.removeFirst(head)
                head = 0
            }
            if inFlight == 0 { lastProgress = SocketReactor.now }
            // libpq (before 17) flushes at every statement's sync point: corked, the batch's
            // writes leave the socket together, and the server wakes once for them.
            let corked = corksWrites && batch.count > 1 && keel_tcp_cork(slot.socket, 1) == 0
            for (index, statement) in batch.enumerated() {
                // A caller cancelled before its statement was sent was resumed already.
                if statement.isCancelled {
                    finished += 1
                    continue
                }
                do {
                    try queue(statement, into: &sent)
                } catch {
                    return giveUp(error, pending: batch[(index + 1)...])
                }
            }
            if corked { _ = keel_tcp_cork(slot.socket, 0) }
            do {
                try await flush()
            } catch {
                return giveUp(error)
            }
            // Every result that has arrived, in order.
            guard PQconsumeInput(handle) == 1 else { return giveUp(connectionError()) }
            var emptyResults = 0
            while head < sent.count, PQisBusy(handle) == 0 {
                // A NULL ends each statement's results; two in a row: nothing more has arrived.
                guard let result = PQgetResult(handle) else {
                    emptyResults += 1
                    if emptyResults > 1 { break }
                    continue
                }
                emptyResults = 0
                lastProgress = SocketReactor.now
                if PQresultStatus(result) == PGRES_PIPELINE_SYNC {
                    PQclear(result)
                    finished += complete(&sent, at: head)
                    head += 1
                } else {
                    _ = sent[head].reader.take(result)
                    PQclear(result)
                }
            }
            if let failure = sent[head...].lazy.compactMap(\.reader.failure).first, failure.isConnectionFailure {
                return giveUp(failure)
            }
            guard head < sent.count else { continue }
            // Edge-triggered, as in nextResult(): wait only when the socket has nothing left.
            if keel_poll_readable_now(slot.socket) != 1 {
                if let queryTimeout {
                    slot.arm(deadline: lastProgress + max(queryTimeout.inNanoseconds / 1_000_000, 1))
                }
                await reactor.wait(for: .readable, slot)
                slot.disarm()
                if slot.interruption == .deadline, let queryTimeout {
                    return giveUp(PostgresError(
                        code: .timeout,
                        message: "the server sent nothing for \(queryTimeout) while statements were in flight; the connection was closed"))
                }
            }
        }
    }

    /// Sends `statement` with its sync point, preparing it first (its own sync point too) when
    /// the statement cache does not hold it yet, and records what was sent.
    private func queue(_ statement: PostgresMultiplexedStatement, into sent: inout [Sent]) throws(PostgresError) {
        let binds = statement.binds
        var prepared: PostgresStatementCache.Prepared?
        if statements.capacity > 0 {
            let key = PostgresStatementCache.Key(sql: statement.rendered.sql, types: binds.types)
            prepared = statements.prepared(for: key)
            if prepared == nil {
                let (new, evicted) = statements.insert(key)
                if let evicted {
                    try sendMessage { PQsendQueryParams(handle, "DEALLOCATE \(evicted)", 0, nil, nil, nil, nil, 0) }
                    try sendMessage { PQpipelineSync(handle) }
                    sent.append(Sent(kind: .deallocation, reader: PostgresResultReader(binds: [])))
                }
                try sendPreparation(of: new, sql: statement.rendered.sql, binds: binds)
                try sendMessage { PQpipelineSync(handle) }
                sent.append(Sent(kind: .preparation(key), reader: PostgresResultReader(binds: statement.rendered.binds)))
                prepared = new
            }
        }
        try sendQuery(statement.rendered.sql, binds: binds, prepared: prepared)
        try sendMessage { PQpipelineSync(handle) }
        sent.append(
            Sent(
                kind: .statement(statement),
                reader: PostgresResultReader(binds: statement.rendered.binds, columns: prepared?.columns, visitRow: statement.visitRow),
                key: prepared?.key))
    }

    /// Ends entry `index` (its sync point arrived): resumes its caller, or passes a failed
    /// preparation on to the statement after it. Returns 1 for a caller's statement, else 0.
    private func complete(_ sent: inout [Sent], at index: Int) -> Int {
        let entry = sent[index]
        switch entry.kind {
        case .statement(let statement):
            if let key = entry.key, entry.reader.readColumns, let columns = entry.reader.columns {
                statements.remember(columns, binary: entry.reader.columnsDecodeInBinary, for: key)
            }
            if let failure = entry.reader.failure ?? entry.reader.rowFailure {
                statement.finish(.failure(failure))
            } else {
                statement.finish(.success((entry.reader.rows, entry.reader.affected)))
            }
            return 1
        case .preparation(let key):
            if let failure = entry.reader.failure {
                statements.remove(key)
                // The statement then fails as "does not exist": it gets the preparation's error.
                if index + 1 < sent.count { sent[index + 1].reader.failure = failure }
            }
            return 0
        case .deallocation:
            return 0
        }
    }
}
