public import KeelCore
import SQLCore

extension PostgresDatabase {
    /// The notifications of `channel`, received on a connection of their own (not one of the
    /// pool's) that `LISTEN`s to it and, when it is lost, is made again and listens again.
    ///
    /// ```swift
    /// for try await event in database.notifications(channel: "leads") {
    ///     switch event {
    ///     case .listening(let afterLoss): if afterLoss { await reloadEverything() }  // a gap
    ///     case .notification(let notification): print(notification.payload)
    ///     }
    /// }
    /// ```
    ///
    /// The sequence starts with ``PostgresListenerEvent/listening(afterLoss:)`` once the first
    /// `LISTEN` is done, and says it again with `afterLoss: true` each time a new connection
    /// listens after a loss: notifications sent between the two are missing, since PostgreSQL
    /// keeps none for a session that is not listening. It keeps the newest `bufferingNewest`
    /// events for a slow reader. Stopping the iteration (or cancelling its task) closes the
    /// connection.
    ///
    /// - Parameters:
    ///   - channel: The channel, an identifier (quoted as one in `LISTEN`).
    ///   - bufferingNewest: How many unread events are kept (the oldest go first).
    ///   - reconnectDelay: The wait before each new connection after a loss or a failed attempt.
    ///
    /// #### Errors
    /// The sequence ends with a ``PostgresError`` that is not about the connection (a refused
    /// password, an invalid channel name) or `SQLStatementError` for a channel that is not a valid
    /// identifier; connection errors are retried. In
    /// ``PostgresConfiguration/pgBouncerTransactionMode`` it ends at once with a
    /// ``PostgresError/Code/client`` error: `LISTEN` needs a direct connection.
    public func notifications(
        channel: String, bufferingNewest: Int = 10_000,
        reconnectDelay: Backoff = Backoff(initialDelay: .milliseconds(50), maximumDelay: .seconds(5), jitter: .equal)
    ) -> AsyncThrowingStream<PostgresListenerEvent, any Error> {
        let configuration = pool.source.configuration
        let (events, continuation) = AsyncThrowingStream.makeStream(
            of: PostgresListenerEvent.self, bufferingPolicy: .bufferingNewest(max(1, bufferingNewest)))
        guard !configuration.pgBouncerTransactionMode else {
            continuation.finish(throwing: PostgresError.client(
                "LISTEN needs a session of its own, which pgBouncerTransactionMode does not give: listen on a PostgresDatabase whose connection string reaches the server directly"))
            return events
        }
        let listener = Task {
            var random = SplitMix64(seed: UInt64.random(in: .min ... .max))
            var failures = 0
            var listenedBefore = false
            while !Task.isCancelled {
                var connection: PostgresConnection?
                do {
                    let opened = try await PostgresConnection.connect(configuration: configuration)
                    connection = opened
                    try await opened.execute("LISTEN \(identifier: channel)")
                    failures = 0
                    continuation.yield(.listening(afterLoss: listenedBefore))
                    listenedBefore = true
                    while true { continuation.yield(.notification(try await opened.nextNotification())) }
                } catch let error as PostgresError where error.code == .connection || error.code == .connectionBeforeSend {
                    connection?.close()
                    failures += 1
                    if failures == 1 {
                        configuration.logger.warning(
                            "PostgreSQL listener lost its connection; reconnecting", metadata: ["error": "\(error)"])
                    }
                    let delay = reconnectDelay.delay(afterFailure: failures, random: random.nextUnit())
                    try? await Task.sleep(for: delay)
                } catch is CancellationError {
                    connection?.close()
                    break
                } catch {
                    connection?.close()
                    continuation.finish(throwing: error)
                    return
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in listener.cancel() }
        return events
    }

    /// Sends `payload` on `channel` (`pg_notify`, both as binds): every session listening to it
    /// receives it when the current transaction commits (at once outside one).
    ///
    /// #### Errors
    /// As ``execute(_:)``.
    public func notify(channel: String, payload: String = "") async throws {
        try await execute("SELECT pg_notify(\(channel), \(payload))")
    }
}
