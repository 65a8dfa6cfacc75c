/// A notification a session sent with `NOTIFY` (or `pg_notify`) on a channel another session
/// `LISTEN`s to.
public struct PostgresNotification: Sendable, Hashable {
    /// The channel.
    public var channel: String
    /// The payload (empty when none was given).
    public var payload: String
    /// The process id of the server session that sent it.
    public var senderProcessID: Int32

    /// A notification of `channel` with `payload` from session `senderProcessID`.
    public init(channel: String, payload: String, senderProcessID: Int32) {
        self.channel = channel
        self.payload = payload
        self.senderProcessID = senderProcessID
    }
}
