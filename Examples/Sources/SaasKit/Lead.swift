public import Hummingbird

/// A lead.
public struct Lead: ResponseCodable, Sendable, Equatable {
    /// Its id.
    public var id: Int64
    /// Its email, unique.
    public var email: String
    /// The person's name.
    public var name: String
    /// Their company.
    public var company: String?
    /// `new`, `contacted`, `qualified`, `lost`.
    public var status: String

    /// A lead.
    public init(id: Int64, email: String, name: String, company: String?, status: String) {
        self.id = id
        self.email = email
        self.name = name
        self.company = company
        self.status = status
    }
}
