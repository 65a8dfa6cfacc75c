import Foundation

/// The body of `POST /leads` and `PUT /leads/:id`.
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

    /// What is wrong, or `nil`.
    public var problem: String? {
        if let problem = Self.emailProblem(email) { return problem }
        if name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 200 { return "name must have 1 to 200 characters" }
        if let company, company.count > 200 { return "company must have at most 200 characters" }
        if let status, !Self.statuses.contains(status) { return "status must be one of \(Self.statuses.sorted().joined(separator: ", "))" }
        return nil
    }

    /// Why `email` is not an address, or `nil`.
    public static func emailProblem(_ email: String) -> String? {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix("."), !email.contains(where: { $0.isWhitespace || $0 == "," || $0 == "\"" })
        else { return "email \"\(email.prefix(80))\" is not an address" }
        return nil
    }
}
