public import Hummingbird

/// `GET /notifications?since=N`: the notifications after N, oldest first.
public struct NotificationList: ResponseCodable, Sendable {
    /// The notifications.
    public var notifications: [NotificationItem]
}
