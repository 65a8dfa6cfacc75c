public import Hummingbird

/// Why a request was not authenticated; answered 401 with a JSON error that says so (the token
/// itself never appears in it).
public enum ButlerAuthenticationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No `Authorization: Bearer …` header.
    case missingToken
    /// A static token that is not in the table.
    case unknownToken
    /// Not a JWT: not three base64url parts, or a header or payload that does not decode.
    case malformed
    /// The signature does not match any key (or the token names no key that is known).
    case badSignature
    /// Past its `exp` (beyond the allowed clock skew).
    case expired
    /// Before its `nbf` (beyond the allowed clock skew).
    case notYetValid
    /// Issued by another issuer than the one configured.
    case wrongIssuer
    /// Not meant for the configured audience.
    case wrongAudience
    /// A claim the service needs is missing (`sub` or `exp`).
    case missingClaim(String)

    /// The reason, as the 401's message says it.
    public var description: String {
        switch self {
        case .missingToken: "missing bearer token"
        case .unknownToken: "invalid bearer token"
        case .malformed: "malformed token"
        case .badSignature: "bad signature"
        case .expired: "token expired"
        case .notYetValid: "token not yet valid"
        case .wrongIssuer: "wrong issuer"
        case .wrongAudience: "wrong audience"
        case .missingClaim(let claim): "the token has no \(claim) claim"
        }
    }

    /// The 401 answer: `WWW-Authenticate: Bearer` and the reason as the JSON error's message.
    public var httpError: HTTPError {
        HTTPError(
            .unauthorized, headers: [.wwwAuthenticate: #"Bearer error="invalid_token""#], message: description)
    }
}
