/// The body of `POST /campaigns` and `PUT /campaigns/:id`.
public struct CampaignInput: Codable, Sendable {
    /// The name.
    public var name: String
    /// The email subject.
    public var subject: String
    /// The status (default `draft`).
    public var status: String?

    /// The statuses a campaign may have.
    public static let statuses: Set<String> = ["draft", "scheduled", "sent"]

    /// What is wrong, or `nil`.
    public var problem: String? {
        if name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 200 { return "name must have 1 to 200 characters" }
        if subject.isEmpty || subject.count > 300 { return "subject must have 1 to 300 characters" }
        if let status, !Self.statuses.contains(status) { return "status must be one of \(Self.statuses.sorted().joined(separator: ", "))" }
        return nil
    }
}
