import Pooling
import KeelCore
import Synchronization

/// An in-memory connection: an id, and flags the tests flip.
final class FakeConnection: Sendable, CustomStringConvertible {
    let id: Int
    /// Set while a lease body runs, to prove no two leases share a connection.
    let busy = Atomic<Bool>(false)
    let health = Locked(ConnectionHealth.healthy)
    let closed = Atomic<Bool>(false)

    init(id: Int) { self.id = id }

    var description: String { "FakeConnection(\(id))" }
}

struct FakeSourceError: Error, CustomStringConvertible {
    let attempt: Int
    var description: String { "connection refused (attempt \(attempt))" }
}

/// A `ConnectionSource` of ``FakeConnection``s whose behaviour the tests script.
final class FakeConnectionSource: ConnectionSource, Sendable {
    struct State {
        var attempts = 0
        var opened = 0
        var closed = 0
        var resets = 0
        var validations = 0
        /// Attempts fail while this is positive (each failure decrements it).
        var failuresToCome = 0
        /// Attempts hang until cancelled while this is true.
        var hang = false
        /// Connection ids that fail validation.
        var invalid: Set<Int> = []
    }

    let state = Locked(State())

    func makeConnection(timeout: Duration) async throws -> FakeConnection {
        let (attempt, fail, hang) = state.withLock { state in
            state.attempts += 1
            let fail = state.failuresToCome > 0
            if fail { state.failuresToCome -= 1 }
            return (state.attempts, fail, state.hang)
        }
        if hang {
            let (stream, continuation) = AsyncStream<Void>.makeStream()
            for await _ in stream {}  // ends when the task is cancelled
            continuation.finish()
            throw CancellationError()
        }
        if fail { throw FakeSourceError(attempt: attempt) }
        let id = state.withLock { state in
            state.opened += 1
            return state.opened
        }
        return FakeConnection(id: id)
    }

    func validate(_ connection: FakeConnection) async -> Bool {
        state.withLock { state in
            state.validations += 1
            return !state.invalid.contains(connection.id)
        }
    }

    func reset(_ connection: FakeConnection) async -> Bool {
        state.withLock { $0.resets += 1 }
        return true
    }

    func health(of connection: FakeConnection) -> ConnectionHealth {
        connection.health.withLock { $0 }
    }

    func close(_ connection: FakeConnection) async {
        connection.closed.store(true, ordering: .relaxed)
        state.withLock { $0.closed += 1 }
    }

    var opened: Int { state.withLock { $0.opened } }
    var closed: Int { state.withLock { $0.closed } }
    var attempts: Int { state.withLock { $0.attempts } }
}

/// Waits, yielding (never sleeping), until `condition` holds; `false` after `maxYields`.
func eventually(maxYields: Int = 200_000, _ condition: () -> Bool) async -> Bool {
    for _ in 0..<maxYields {
        if condition() { return true }
        await Task.yield()
    }
    return condition()
}
