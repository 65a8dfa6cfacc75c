import KeelCore
import SQLCore

/// One statement of a multiplexed caller (see ``PostgresConfiguration/multiplexedConnections``):
/// what to send, and the caller waiting for its outcome, resumed exactly once: by its result, by
/// the failure of its connection, or at once by its task's cancellation (a result that arrives
/// later is dropped).
final class PostgresMultiplexedStatement: Sendable {
    /// A statement's rows and the rows it affected.
    typealias Outcome = (rows: [SQLRow], affected: Int)

    private enum State {
        case created
        case waiting(UnsafeContinuation<Outcome, any Error>)
        case cancelled
        case finished
    }

    let rendered: SQLRenderedStatement
    let binds: PostgresBinds
    private let state = Locked(State.created)

    init(rendered: SQLRenderedStatement, binds: PostgresBinds) {
        self.rendered = rendered
        self.binds = binds
    }

    /// Whether the caller stopped waiting.
    var isCancelled: Bool {
        state.withLock { state in
            if case .cancelled = state { return true }
            return false
        }
    }

    /// Parks the caller; `false` when its task was cancelled already (the caller then resumes
    /// `continuation` with `CancellationError` itself and sends nothing).
    func park(_ continuation: UnsafeContinuation<Outcome, any Error>) -> Bool {
        state.withLock { state in
            guard case .created = state else { return false }
            state = .waiting(continuation)
            return true
        }
    }

    /// The caller's task was cancelled: it is resumed with `CancellationError` now.
    func cancel() {
        let waiting = state.withLock { state -> UnsafeContinuation<Outcome, any Error>? in
            switch state {
            case .created:
                state = .cancelled
                return nil
            case .waiting(let continuation):
                state = .cancelled
                return continuation
            case .cancelled, .finished:
                return nil
            }
        }
        waiting?.resume(throwing: CancellationError())
    }

    /// Resumes the caller with `outcome`, unless it stopped waiting.
    func finish(_ outcome: Result<Outcome, any Error>) {
        let waiting = state.withLock { state -> UnsafeContinuation<Outcome, any Error>? in
            guard case .waiting(let continuation) = state else { return nil }
            state = .finished
            return continuation
        }
        waiting?.resume(with: outcome)
    }
}
