import ButlerKit
import Crypto
import ExampleSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import Synchronization
import Testing
import _CryptoExtras

/// crypto-butler's bearer JWTs: HS256 from a secret, RS256 and ES256 from a JSON Web Key Set, the
/// generated demo keys; each rejection answered 401 with its reason and never the token.
@Suite struct ButlerAuthenticationTests {
    static let secret = "a-secret-of-at-least-32-characters!"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// Claims for `subject` from `issuer` to `audience`, expiring `expiresIn` seconds after ``now``.
    static func claims(
        _ subject: String = "alice", issuer: String? = "https://id.example", audience: String? = "crypto-butler",
        expiresIn: Double = 300, notBeforeIn: Double? = nil
    ) -> ButlerClaims {
        ButlerClaims(
            subject: subject, issuer: issuer, audience: audience, expiration: now.addingTimeInterval(expiresIn),
            notBefore: notBeforeIn.map { now.addingTimeInterval($0) })
    }

    static func settings(_ keys: ButlerJWTSettings.Keys) -> ButlerJWTSettings {
        ButlerJWTSettings(keys: keys, issuer: "https://id.example", audience: "crypto-butler", leeway: .seconds(30))
    }

    static func base64URL(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test func anHS256TokenFromTheSecretAuthenticatesItsSubject() async throws {
        let verifier = try await ButlerJWTVerifier(settings: Self.settings(.secret(Self.secret)), now: { Self.now })
        let signer = await JWTKeyCollection().add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
        let token = try await signer.sign(Self.claims())
        #expect(try await verifier.user(for: token) == ButlerUser(name: "alice"))
    }

    @Test func rs256AndES256TokensAreCheckedAgainstAKeySet() async throws {
        let rsa = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let (modulus, exponent) = try rsa.publicKey.getKeyPrimitives()
        let ec = ES256PrivateKey()
        let ecParameters = try #require(ec.publicKey.parameters)
        let keySet = """
            {"keys":[
              {"kty":"RSA","kid":"rsa-1","alg":"RS256","use":"sig","n":"\(Self.base64URL(modulus))","e":"\(Self.base64URL(exponent))"},
              {"kty":"EC","kid":"ec-1","alg":"ES256","use":"sig","crv":"P-256","x":"\(ecParameters.x)","y":"\(ecParameters.y)"}
            ]}
            """
        let verifier = try await ButlerJWTVerifier(settings: Self.settings(.keySet(keySet)), now: { Self.now })
        let signers = await JWTKeyCollection()
            .add(rsa: rsa, digestAlgorithm: .sha256, kid: "rsa-1")
            .add(ecdsa: ec, kid: "ec-1")
        #expect(try await verifier.user(for: try await signers.sign(Self.claims("rsa-user"), kid: "rsa-1")).name == "rsa-user")
        #expect(try await verifier.user(for: try await signers.sign(Self.claims("ec-user"), kid: "ec-1")).name == "ec-user")
        let stranger = await JWTKeyCollection().add(ecdsa: ES256PrivateKey(), kid: "ec-1")
        await #expect(throws: ButlerAuthenticationError.badSignature) {
            try await verifier.user(for: try await stranger.sign(Self.claims(), kid: "ec-1"))
        }
    }

    @Test func theGeneratedKeysDemoTokenAuthenticatesTheDemoUser() async throws {
        let settings = try ButlerJWTSettings(environment: [:])
        let verifier = try await ButlerJWTVerifier(settings: settings)
        #expect(try await verifier.user(for: try await verifier.demoToken(for: "demo")) == ButlerUser(name: "demo"))
    }

    @Test func aClockSkewWithinTheLeewayIsAccepted() async throws {
        let verifier = try await ButlerJWTVerifier(settings: Self.settings(.secret(Self.secret)), now: { Self.now })
        let signer = await JWTKeyCollection().add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
        #expect(try await verifier.user(for: try await signer.sign(Self.claims(expiresIn: -20))).name == "alice")
        #expect(try await verifier.user(for: try await signer.sign(Self.claims(notBeforeIn: 20))).name == "alice")
    }

    @Test func aTokenWhoseSignatureWasCheckedBeforeStillExpiresOnTime() async throws {
        let clock = Mutex(Self.now)
        let verifier = try await ButlerJWTVerifier(settings: Self.settings(.secret(Self.secret)), now: { clock.withLock { $0 } })
        let signer = await JWTKeyCollection().add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
        let token = try await signer.sign(Self.claims(expiresIn: 60))
        #expect(try await verifier.user(for: token).name == "alice")
        clock.withLock { $0 = Self.now.addingTimeInterval(60 + 31) }
        await #expect(throws: ButlerAuthenticationError.expired) { try await verifier.user(for: token) }
    }

    @Test func eachRejectionIsA401ThatSaysWhyWithoutTheToken() async throws {
        let verifier = try await ButlerJWTVerifier(settings: Self.settings(.secret(Self.secret)), now: { Self.now })
        let signer = await JWTKeyCollection().add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
        let other = await JWTKeyCollection().add(hmac: HMACKey(from: String(Self.secret.reversed())), digestAlgorithm: .sha256)
        let cases: [(token: String?, reason: String)] = [
            (nil, "missing bearer token"),
            (try await signer.sign(Self.claims(expiresIn: -60)), "token expired"),
            (try await signer.sign(Self.claims(notBeforeIn: 120)), "token not yet valid"),
            (try await signer.sign(Self.claims(audience: "another-api")), "wrong audience"),
            (try await signer.sign(Self.claims(issuer: "https://elsewhere.example")), "wrong issuer"),
            (try await other.sign(Self.claims()), "bad signature"),
            ("not.a-jwt", "malformed token"),
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0", "malformed token"),
        ]
        let store = try await ExampleDatabases.open(.sqlite)
        try await store.run { database in
            var configuration = try ButlerConfiguration(environment: [:])
            configuration.jobsInterval = nil
            let butler = try Butler(database: database, configuration: configuration, authentication: .jwt(verifier))
            try await butler.store.migrate()
            var logger = Logger(label: "auth-test")
            logger.logLevel = .warning
            try await butler.application(port: 0, services: [], logger: logger).test(.router) { client in
                try await client.execute(
                    uri: "/v1/portfolios", method: .get, headers: [.authorization: "Bearer \(try await signer.sign(Self.claims()))"]
                ) { #expect($0.status == .ok) }
                for (token, reason) in cases {
                    let headers: HTTPFields = token.map { [.authorization: "Bearer \($0)"] } ?? [:]
                    try await client.execute(uri: "/v1/portfolios", method: .get, headers: headers) { response in
                        #expect(response.status == .unauthorized, "\(reason)")
                        let body = String(buffer: response.body)
                        #expect(body.contains(#""message":"\#(reason)""#), "\(body)")
                        if let token { #expect(!body.contains(token)) }
                        #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                    }
                }
            }
        }
    }
}
