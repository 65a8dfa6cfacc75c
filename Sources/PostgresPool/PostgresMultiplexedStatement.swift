import SQLCore
import Synchronization

/// One statement of a multiplexed caller (see ``PostgresConfiguration/multiplexedConnections``):
/// what to send, and the caller waiting for its outcome, resumed exactly once: by its result, by
/// the failure of its connection, or at once by its task's cancellation (a result that arrives
/// later is dropped).
final class PostgresMultiplexedStatement: @unchecked Sendable {
    // @unchecked Sendable: `continuation` is written once, by `park`, before `state` publishes it
    // (created → waiting); it is read only by the one call that then moves `state` on from
    // waiting (`cancel` or `finish`).

    /// A statement's rows and the rows it affected.
    typealias Outcome = (rows: [SQLRow], affected: Int)

    private static let created: UInt8 = 0
    private static let waiting: UInt8 = 1
    private static let cancelled: UInt8 = 2
    private static let finished: UInt8 = 3

    let rendered: SQLRenderedStatement
    let binds: PostgresBinds
    /// Given each row, on the connection's task, in place of collecting the rows.
    let visitRow: (@Sendable (borrowing PostgresRowView) throws -> Void)?
    private let state = Atomic<UInt8>(created)
    private var continuation: UnsafeContinuation<Outcome, any Error>?

    init(rendered: SQLRenderedStatement, binds: PostgresBinds, visitRow: (@Sendable (borrowing PostgresRowView) throws -> Void)? = nil) {
        self.rendered = rendered
        self.binds = binds
        self.visitRow = visitRow
    }

    /// Whether the caller stopped waiting.
    var isCancelled: Bool { state.load(ordering: .acquiring) == Self.cancelled }

    /// Whether the statement finished; an acquiring read that pairs with ``finish(_:)``'s release.
    var isFinished: Bool { state.load(ordering: .acquiring) == Self.finished }

    /// Parks the caller; `false` when its task was cancelled already (the caller then resumes
    /// `continuation` with `CancellationError` itself and sends nothing).
    func park(_ continuation: UnsafeContinuation<Outcome, any Error>) -> Bool {
        self.continuation = continuation
        return state.compareExchange(expected: Self.created, desired: Self.waiting, ordering: .acquiringAndReleasing).exchanged
    }

    /// The caller's task was cancelled: it is resumed with `CancellationError` now.
    func cancel() {
        if state.compareExchange(expected: Self.created, desired: Self.cancelled, ordering: .acquiringAndReleasing).exchanged {
            return
        }
        if state.compareExchange(expected: Self.waiting, desired: Self.cancelled, ordering: .acquiringAndReleasing).exchanged {
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Resumes the caller with `outcome`, unless it stopped waiting.
    func finish(_ outcome: Result<Outcome, any Error>) {
        if state.compareExchange(expected: Self.waiting, desired: Self.finished, ordering: .acquiringAndReleasing).exchanged {
            continuation?.resume(with: outcome)
        }
    }
}
