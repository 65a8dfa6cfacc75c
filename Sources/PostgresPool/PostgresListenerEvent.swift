/// What ``PostgresDatabase/notifications(channel:bufferingNewest:reconnectDelay:)`` delivers.
public enum PostgresListenerEvent: Sendable, Hashable {
    /// The listener's connection `LISTEN`s to the channel: from here on every notification
    /// arrives. `afterLoss` is `true` when an earlier connection was lost: notifications sent
    /// while there was none are missing (PostgreSQL keeps no notification for a session that is
    /// not listening).
    case listening(afterLoss: Bool)
    /// A notification of the channel.
    case notification(PostgresNotification)
}
