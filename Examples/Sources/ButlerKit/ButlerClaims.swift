import Foundation
public import JWTKit

/// The claims crypto-butler reads from a JWT: the subject is the user; issuer, audience, expiry
/// and not-before are checked by ``ButlerJWTVerifier`` against its settings.
public struct ButlerClaims: JWTPayload, Sendable {
    /// `sub`: the user.
    public var subject: SubjectClaim?
    /// `iss`: who issued the token.
    public var issuer: IssuerClaim?
    /// `aud`: whom the token is for.
    public var audience: AudienceClaim?
    /// `exp`: when the token expires.
    public var expiration: ExpirationClaim?
    /// `nbf`: when the token becomes valid.
    public var notBefore: NotBeforeClaim?

    enum CodingKeys: String, CodingKey {
        case subject = "sub", issuer = "iss", audience = "aud", expiration = "exp", notBefore = "nbf"
    }

    /// Claims for `subject`, valid until `expiration`.
    public init(
        subject: String, issuer: String?, audience: String?, expiration: Date, notBefore: Date? = nil
    ) {
        self.subject = SubjectClaim(value: subject)
        self.issuer = issuer.map { IssuerClaim(value: $0) }
        self.audience = audience.map { AudienceClaim(value: [$0]) }
        self.expiration = ExpirationClaim(value: expiration)
        self.notBefore = notBefore.map { NotBeforeClaim(value: $0) }
    }

    /// Accepts every signed payload here: ``ButlerJWTVerifier`` checks the claims afterwards with
    /// its configured issuer, audience and clock skew, so that each rejection names its reason.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
