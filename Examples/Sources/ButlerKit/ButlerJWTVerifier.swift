import Cache
import ExampleSupport
import Foundation
public import JWTKit

/// Checks bearer JWTs: the signature against the configured keys (jwt-kit), then the subject,
/// issuer, audience, expiry and not-before against the settings, with the allowed clock skew.
///
/// A signature is checked once per token: the claims of a token whose signature was good are kept
/// (10,000 tokens, each for up to 5 minutes) in a Keel `Cache`, keyed by the whole token, so that
/// a client sending the same token again costs a lookup instead of an ES256 or RS256
/// verification (about 50 µs here). The claims are checked again on every request, so a kept
/// token still expires on time.
///
/// ```swift
/// let verifier = try await ButlerJWTVerifier(settings: ButlerJWTSettings(keys: .secret(secret), audience: "crypto-butler"))
/// let user = try await verifier.user(for: token)
/// ```
public final class ButlerJWTVerifier: Sendable {
    /// The settings.
    public let settings: ButlerJWTSettings
    /// The verification keys (and, with generated keys, the signing key).
    public let keys: JWTKeyCollection
    /// The key identifier of generated keys.
    static let generatedKeyID = JWKIdentifier(string: "crypto-butler-demo")
    private let now: @Sendable () -> Date
    /// The claims of tokens whose signature was good, by token.
    private let verified: Cache<String, ButlerClaims, ContinuousClock>

    /// A verifier with the keys `settings` name; `now` is the time expiry is checked against.
    ///
    /// #### Errors
    /// ``ExampleSupport/ExampleConfigurationError`` for a key set that does not parse.
    public init(settings: ButlerJWTSettings, now: @escaping @Sendable () -> Date = { Date() }) async throws {
        self.settings = settings
        self.now = now
        verified = try Cache(
            configuration: CacheConfiguration(maximumCapacity: 10_000, timeToLive: .seconds(300)), name: "crypto-butler-verified-tokens")
        keys = JWTKeyCollection()
        switch settings.keys {
        case .secret(let secret):
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        case .keySet(let json):
            do {
                try await keys.add(jwksJSON: json)
            } catch {
                throw ExampleConfigurationError(
                    variable: "BUTLER_JWKS", problem: "(or BUTLER_JWKS_FILE) is not a JSON Web Key Set of keys jwt-kit can verify with")
            }
        case .generated:
            await keys.add(ecdsa: ES256PrivateKey(), kid: Self.generatedKeyID)
        }
    }

    /// The user `token` authenticates.
    ///
    /// #### Errors
    /// ``ButlerAuthenticationError`` saying why the token is refused.
    public func user(for token: String) async throws(ButlerAuthenticationError) -> ButlerUser {
        let claims: ButlerClaims
        if let known = verified.value(for: token) {
            claims = known
        } else {
            do {
                claims = try await keys.verify(token, as: ButlerClaims.self)
            } catch let error as JWTError {
                switch error.errorType {
                case .signatureVerificationFailed, .unknownKID, .missingKIDHeader: throw .badSignature
                default: throw .malformed
                }
            } catch {
                throw .malformed
            }
            verified.insert(claims, for: token)
        }
        let now = now()
        let leeway = Double(settings.leeway.components.seconds)
        guard let subject = claims.subject?.value, !subject.isEmpty else { throw .missingClaim("sub") }
        guard let expiration = claims.expiration?.value else { throw .missingClaim("exp") }
        guard expiration.timeIntervalSince(now) > -leeway else { throw .expired }
        if let notBefore = claims.notBefore?.value, notBefore.timeIntervalSince(now) > leeway { throw .notYetValid }
        if let issuer = settings.issuer, claims.issuer?.value != issuer { throw .wrongIssuer }
        if let audience = settings.audience, !(claims.audience?.value.contains(audience) ?? false) { throw .wrongAudience }
        return ButlerUser(name: subject)
    }

    /// A token for `user` valid for `lifetime`, signed with the generated key (the demo token).
    ///
    /// #### Errors
    /// jwt-kit's error when the keys cannot sign (a key set holds public keys only).
    public func demoToken(for user: String, lifetime: Duration = .seconds(3600)) async throws -> String {
        let claims = ButlerClaims(
            subject: user, issuer: settings.issuer, audience: settings.audience,
            expiration: now().addingTimeInterval(Double(lifetime.components.seconds)))
        return try await keys.sign(claims, kid: Self.generatedKeyID)
    }
}
