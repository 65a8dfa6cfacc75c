public import Hummingbird
public import HummingbirdAuth

/// hummingbird-auth's authenticator for crypto-butler's API: the `Authorization: Bearer` token,
/// checked by the ``ButlerAuthentication``, becomes the context's identity; every other request
/// is answered 401 with a JSON error that says why (never echoing the token).
public struct ButlerAuthenticator: AuthenticatorMiddleware {
    /// The request context.
    public typealias Context = ButlerContext
    /// The identity it authenticates.
    public typealias Identity = ButlerUser

    /// How tokens are checked.
    public let authentication: ButlerAuthentication

    /// An authenticator checking tokens with `authentication`.
    public init(authentication: ButlerAuthentication) {
        self.authentication = authentication
    }

    /// The user of the request's bearer token.
    ///
    /// #### Errors
    /// A 401 `HTTPError` for a missing or refused token.
    public func authenticate(request: Request, context: ButlerContext) async throws -> ButlerUser? {
        guard let bearer = request.headers.bearer else { throw ButlerAuthenticationError.missingToken.httpError }
        do {
            return try await authentication.user(for: bearer.token)
        } catch {
            throw error.httpError
        }
    }
}
