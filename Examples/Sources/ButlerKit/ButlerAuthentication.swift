/// How crypto-butler authenticates a bearer token.
public enum ButlerAuthentication: Sendable {
    /// A static table of tokens and their users (`BUTLER_TOKENS`).
    case tokens([String: String])
    /// JWTs, checked by a verifier.
    case jwt(ButlerJWTVerifier)

    /// The authentication `settings` describe (a JWT verifier is set up with its keys).
    ///
    /// #### Errors
    /// As ``ButlerJWTVerifier/init(settings:now:)``.
    public init(_ settings: ButlerAuthenticationSettings) async throws {
        switch settings {
        case .tokens(let tokens): self = .tokens(tokens)
        case .jwt(let jwt): self = .jwt(try await ButlerJWTVerifier(settings: jwt))
        }
    }

    /// The user `token` authenticates.
    ///
    /// #### Errors
    /// ``ButlerAuthenticationError`` saying why the token is refused.
    public func user(for token: String) async throws(ButlerAuthenticationError) -> ButlerUser {
        switch self {
        case .tokens(let tokens):
            guard let user = tokens[token] else { throw .unknownToken }
            return ButlerUser(name: user)
        case .jwt(let verifier):
            return try await verifier.user(for: token)
        }
    }
}
