import ExampleSupport

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

    /// The input as it is stored: name and subject trimmed.
    public var normalized: CampaignInput {
        CampaignInput(name: ExampleText.trimmed(name), subject: ExampleText.trimmed(subject), status: status)
    }

    /// What is wrong with the input as stored (``normalized``), or `nil`.
    public var problem: String? {
        let input = normalized
        if let problem = ExampleText.problem(input.name, name: "name", maximum: 200) { return problem }
        if let problem = ExampleText.problem(input.subject, name: "subject", maximum: 300) { return problem }
        if let status, !Self.statuses.contains(status) { return "status must be one of \(Self.statuses.sorted().joined(separator: ", "))" }
        return nil
    }
}
