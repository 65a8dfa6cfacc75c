/// The caller a request was authenticated as: the token table's user, or a JWT's subject.
public struct ButlerUser: Sendable, Hashable {
    /// The user's name: the owner of their portfolios.
    public let name: String

    /// A user named `name`.
    public init(name: String) {
        self.name = name
    }
}
