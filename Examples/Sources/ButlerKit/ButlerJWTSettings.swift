public import ExampleSupport
import Foundation

/// Where crypto-butler's JWT keys come from and what its tokens must say.
public struct ButlerJWTSettings: Sendable, Hashable {
    /// Where the verification keys come from.
    public enum Keys: Sendable, Hashable {
        /// HS256 with a shared secret (`BUTLER_JWT_SECRET`).
        case secret(String)
        /// The public keys of a JSON Web Key Set (RS256, ES256, …), from `BUTLER_JWKS` (the JSON
        /// itself) or `BUTLER_JWKS_FILE` (a file holding it), as an identity provider such as
        /// Keycloak publishes them.
        case keySet(String)
        /// A key pair made at start-up, whose demo token is printed: nothing to set up.
        case generated
    }

    /// The keys.
    public var keys: Keys
    /// The `iss` tokens must carry; `nil` accepts any (`BUTLER_JWT_ISSUER`).
    public var issuer: String?
    /// The `aud` tokens must include; `nil` accepts any (`BUTLER_JWT_AUDIENCE`).
    public var audience: String?
    /// How far `exp` and `nbf` may be off (clocks of issuer and service differ): 30 s by default
    /// (`BUTLER_JWT_LEEWAY_SECS`, 0 to 600).
    public var leeway: Duration

    /// Settings with `keys`, the `issuer` and `audience` tokens must carry (`nil`: any), and `leeway`.
    public init(keys: Keys, issuer: String? = nil, audience: String? = nil, leeway: Duration = .seconds(30)) {
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
    }

    /// The issuer of the demo token.
    public static let demoIssuer = "crypto-butler-demo"
    /// The audience of the demo token.
    public static let demoAudience = "crypto-butler"

    /// The JWT settings in `environment`: `BUTLER_JWT_SECRET`, `BUTLER_JWKS` or `BUTLER_JWKS_FILE`
    /// (at most one), `BUTLER_JWT_ISSUER`, `BUTLER_JWT_AUDIENCE`, `BUTLER_JWT_LEEWAY_SECS`;
    /// generated keys (and the demo issuer and audience unless set) when no key is given.
    ///
    /// #### Errors
    /// ``ExampleSupport/ExampleConfigurationError`` naming the variable: two key sources, a
    /// secret shorter than 32 characters, a key set file that cannot be read, a leeway out of range.
    public init(environment: [String: String]) throws(ExampleConfigurationError) {
        let sources = ["BUTLER_JWT_SECRET", "BUTLER_JWKS", "BUTLER_JWKS_FILE"].filter { environment[$0] != nil }
        guard sources.count <= 1 else {
            throw ExampleConfigurationError(variable: sources[1], problem: "set only one of \(sources.joined(separator: ", "))")
        }
        if let secret = environment["BUTLER_JWT_SECRET"] {
            guard secret.utf8.count >= 32 else {
                throw ExampleConfigurationError(variable: "BUTLER_JWT_SECRET", problem: "must be at least 32 characters for HS256")
            }
            keys = .secret(secret)
        } else if let json = environment["BUTLER_JWKS"] {
            keys = .keySet(json)
        } else if let path = environment["BUTLER_JWKS_FILE"] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ExampleConfigurationError(variable: "BUTLER_JWKS_FILE", problem: "cannot read the file it names")
            }
            keys = .keySet(String(decoding: data, as: UTF8.self))
        } else {
            keys = .generated
        }
        let generated = keys == .generated
        issuer = environment["BUTLER_JWT_ISSUER"] ?? (generated ? Self.demoIssuer : nil)
        audience = environment["BUTLER_JWT_AUDIENCE"] ?? (generated ? Self.demoAudience : nil)
        leeway = .seconds(try ExampleConfigurationError.integer("BUTLER_JWT_LEEWAY_SECS", in: environment, default: 30, range: 0...600))
    }
}
