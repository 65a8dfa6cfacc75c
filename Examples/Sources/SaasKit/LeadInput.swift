import ExampleSupport
import Foundation

/// The body of `POST /leads` and `PUT /leads/:id`, and each row of a CSV upload.
public struct LeadInput: Codable, Sendable {
    /// The email.
    public var email: String
    /// The name.
    public var name: String
    /// The company.
    public var company: String?
    /// The status (default `new`).
    public var status: String?

    /// The statuses a lead may have.
    public static let statuses: Set<String> = ["new", "contacted", "qualified", "lost"]

    /// The input as it is stored, the same on every path that writes a lead: the email trimmed
    /// and in lower case (the identity a lead is found by), the name and company trimmed, an
    /// empty company none.
    public var normalized: LeadInput {
        let company = company.map(ExampleText.trimmed)
        return LeadInput(
            email: ExampleText.trimmed(email).lowercased(), name: ExampleText.trimmed(name),
            company: company?.isEmpty == true ? nil : company, status: status)
    }

    /// What is wrong with the input as stored (``normalized``), or `nil`.
    public var problem: String? {
        let input = normalized
        if let problem = Self.emailProblem(input.email) { return problem }
        if let problem = ExampleText.problem(input.name, name: "name", maximum: 200) { return problem }
        if let company = input.company, let problem = ExampleText.problem(company, name: "company", maximum: 200) { return problem }
        if let status, !Self.statuses.contains(status) { return "status must be one of \(Self.statuses.sorted().joined(separator: ", "))" }
        return nil
    }

    /// Why `email` is not an address, or `nil`.
    public static func emailProblem(_ email: String) -> String? {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix("."),
            !email.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control || $0 == "," || $0 == "\"" })
        else { return "email \"\(email.prefix(80).unicodeScalars.filter { $0.properties.generalCategory != .control }.map(String.init).joined())\" is not an address" }
        return nil
    }
}
