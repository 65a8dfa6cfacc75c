public import Hummingbird

/// Checks `Authorization: Bearer <token>` against a static token table and puts the user in the
/// context; answers 401 with a JSON error otherwise.
///
/// crypto-butler uses a static table (`BUTLER_TOKENS="token:user,token:user"`) rather than the
/// reference's Keycloak JWTs, so that it runs with no identity provider; the check sits in this
/// one middleware, where a JWT verifier would go.
public struct BearerTokenMiddleware: RouterMiddleware {
    /// Token to user.
    public let tokens: [String: String]

    /// A middleware accepting these tokens.
    public init(tokens: [String: String]) {
        self.tokens = tokens
    }

    /// Authenticates the request or answers 401.
    public func handle(
        _ request: Request, context: ButlerContext, next: (Request, ButlerContext) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw HTTPError(.unauthorized, message: "missing bearer token")
        }
        guard let user = tokens[String(header.dropFirst(7))] else {
            throw HTTPError(.unauthorized, message: "invalid bearer token")
        }
        var context = context
        context.user = user
        return try await next(request, context)
    }
}
