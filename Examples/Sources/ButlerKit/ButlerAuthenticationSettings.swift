public import ExampleSupport

/// How crypto-butler is told to authenticate: a static token table, or JWTs.
public enum ButlerAuthenticationSettings: Sendable, Hashable {
    /// Token to user (`BUTLER_TOKENS="token:user,token:user"`).
    case tokens([String: String])
    /// Bearer JWTs (the default: with no key set, a key pair is made at start-up and a demo
    /// token printed).
    case jwt(ButlerJWTSettings)

    /// The settings in `environment`: the token table when `BUTLER_TOKENS` is set, JWTs otherwise.
    ///
    /// #### Errors
    /// ``ExampleSupport/ExampleConfigurationError`` naming the variable when a value does not
    /// parse, or when `BUTLER_TOKENS` and a JWT key are both set.
    public init(environment: [String: String]) throws(ExampleConfigurationError) {
        if let tokens = try ButlerConfiguration.tokens(environment["BUTLER_TOKENS"]) {
            let jwtKeys = ["BUTLER_JWT_SECRET", "BUTLER_JWKS", "BUTLER_JWKS_FILE"].filter { environment[$0] != nil }
            if let key = jwtKeys.first {
                throw ExampleConfigurationError(variable: key, problem: "set either BUTLER_TOKENS or a JWT key, not both")
            }
            self = .tokens(tokens)
        } else {
            self = .jwt(try ButlerJWTSettings(environment: environment))
        }
    }
}
