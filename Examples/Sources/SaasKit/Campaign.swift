public import Hummingbird

/// A campaign.
public struct Campaign: ResponseCodable, Sendable, Equatable {
    /// Its id.
    public var id: Int64
    /// Its name.
    public var name: String
    /// The email subject.
    public var subject: String
    /// `draft`, `scheduled`, `sent`.
    public var status: String
}
