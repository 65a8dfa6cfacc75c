import PostgresPool
public import SQLCore
public import ServiceLifecycle
import Synchronization

/// Tells the notification streams (`GET /notifications/stream`) when notifications may have been
/// added, so that each reads what is new: on PostgreSQL from `LISTEN saas_notifications`, which
/// every instance's writes reach (``SaasStore`` sends `pg_notify` in the transaction that adds a
/// notification, so it arrives once the row is committed); on SQLite from this process's writes.
///
/// A wake-up carries nothing: the table is what streams send, so a lost LISTEN connection (a gap)
/// costs nothing but a read of what is new once it listens again.
public final class NotificationFeed: Service, Sendable {
    /// The channel the store notifies on PostgreSQL.
    public static let channel = "saas_notifications"
    private let postgres: PostgresDatabase?
    private let state = Mutex<(next: Int, waiters: [Int: AsyncStream<Void>.Continuation], finished: Bool, listening: Bool)>(
        (0, [:], false, false))

    /// A feed for `database`: listening on PostgreSQL once ``run()`` runs, in-process otherwise.
    public init(database: any SQLDatabase) {
        postgres = database as? PostgresDatabase
    }

    /// Wake-ups, one after each change (several close together may arrive as one); the stream
    /// ends when the feed shuts down.
    public func wakeUps() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id: Int? = state.withLock { state in
            guard !state.finished else { return nil }
            state.next += 1
            state.waiters[state.next] = continuation
            return state.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.waiters.removeValue(forKey: id) }
        }
        return stream
    }

    /// Whether the feed's first `LISTEN` on PostgreSQL is done (`false` on SQLite, and once the
    /// feed has stopped).
    public var isListening: Bool { state.withLock { $0.listening } }

    /// Wakes every stream.
    public func wake() {
        for waiter in state.withLock({ Array($0.waiters.values) }) { waiter.yield() }
    }

    /// Until graceful shutdown: listens on PostgreSQL (waking the streams on each notification and
    /// after each reconnection), and wakes them every ``NotificationStream/keepAliveInterval`` so
    /// that silent ones send a keep-alive; then ends every stream.
    public func run() async throws {
        defer {
            for waiter in state.withLock({ state in
                state.finished = true
                return Array(state.waiters.values)
            }) { waiter.finish() }
        }
        try await withThrowingDiscardingTaskGroup { group in
            if let postgres {
                group.addTask {
                    for try await event in postgres.notifications(channel: Self.channel).cancelOnGracefulShutdown() {
                        if case .listening = event { self.state.withLock { $0.listening = true } }
                        self.wake()
                    }
                    self.state.withLock { $0.listening = false }
                }
            }
            group.addTask {
                while (try? await Task.sleep(for: NotificationStream.keepAliveInterval)) != nil { self.wake() }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}
