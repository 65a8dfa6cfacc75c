/// A notification for the polling endpoint.
public struct NotificationItem: Codable, Sendable, Equatable {
    /// Its id; poll with `since=<last id seen>`.
    public var id: Int64
    /// `lead.created`, `leads.imported`, `campaign.created`.
    public var kind: String
    /// What happened.
    public var message: String
}
