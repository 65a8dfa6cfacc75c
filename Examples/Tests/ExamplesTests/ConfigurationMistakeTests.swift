import ButlerKit
import ExampleSupport
import Foundation
import Testing

/// A configuration mistake is refused at start, naming the variable, and never weakens security.
@Suite struct ConfigurationMistakeTests {
    static func refusal(_ environment: [String: String]) -> ExampleConfigurationError? {
        do {
            _ = try ButlerConfiguration(environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test func aTokenTableThatDoesNotParseIsRefusedWithoutShowingTheTokens() {
        for tokens in ["tokA=alice", "", "tokA:alice,", "tokA:", ":alice", "tok A:alice", "tokA:alice,tokA:bob", "tokA:alice;tokB:bob"] {
            let error = Self.refusal(["BUTLER_TOKENS": tokens])
            #expect(error?.variable == "BUTLER_TOKENS", "\(tokens.debugDescription) was accepted")
            let description = error.map(String.init(describing:)) ?? ""
            #expect(!description.contains("tokA"))
            #expect(!description.contains("alice"))
        }
    }

    @Test func spacesAroundPairsAreIgnoredAndGeneratedJWTKeysOnlyServeWhenNothingIsGiven() throws {
        let configuration = try ButlerConfiguration(environment: ["BUTLER_TOKENS": "tokA:alice, tokB:bob "])
        #expect(configuration.authentication == .tokens(["tokA": "alice", "tokB": "bob"]))
        #expect(
            try ButlerConfiguration(environment: [:]).authentication
                == .jwt(ButlerJWTSettings(keys: .generated, issuer: ButlerJWTSettings.demoIssuer, audience: ButlerJWTSettings.demoAudience)))
        let secret = String(repeating: "s", count: 32)
        #expect(
            try ButlerConfiguration(environment: ["BUTLER_JWT_SECRET": secret, "BUTLER_JWT_AUDIENCE": "api"]).authentication
                == .jwt(ButlerJWTSettings(keys: .secret(secret), issuer: nil, audience: "api")))
    }

    @Test func jwtSettingsThatContradictOrAreTooWeakAreRefusedWithoutShowingTheSecret() {
        let secret = "short-secret-value"
        let cases: [([String: String], String)] = [
            (["BUTLER_JWT_SECRET": secret], "BUTLER_JWT_SECRET"),
            (["BUTLER_JWT_SECRET": String(repeating: "s", count: 32), "BUTLER_JWKS": "{}"], "BUTLER_JWKS"),
            (["BUTLER_TOKENS": "tok:alice", "BUTLER_JWT_SECRET": String(repeating: "s", count: 32)], "BUTLER_JWT_SECRET"),
            (["BUTLER_JWKS_FILE": "/nonexistent/keel-jwks.json"], "BUTLER_JWKS_FILE"),
            (["BUTLER_JWT_LEEWAY_SECS": "a minute"], "BUTLER_JWT_LEEWAY_SECS"),
            (["HTTP_RATE_LIMIT_PER_SECOND": "0"], "HTTP_RATE_LIMIT_PER_SECOND"),
        ]
        for (environment, variable) in cases {
            let error = Self.refusal(environment)
            #expect(error?.variable == variable, "\(environment.keys.sorted()) was accepted or blamed on another variable")
            #expect(!(error.map(String.init(describing:)) ?? "").contains(secret))
        }
    }

    @Test func aLatencyThatIsNotAWholeNumberIsRefused() throws {
        for latency in ["10ms", "-5", "1e3", ""] {
            #expect(Self.refusal(["BUTLER_API_LATENCY_MS": latency])?.variable == "BUTLER_API_LATENCY_MS", "\(latency) was accepted")
        }
        #expect(try ButlerConfiguration(environment: ["BUTLER_API_LATENCY_MS": " 25 "]).apiLatency == .milliseconds(25))
    }

    @Test func theServicesRefuseToStartAndSayWhy() async throws {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for (program, arguments, named) in [
            ("saas-api", ["--port", "188741"], "--port"), ("crypto-butler", ["--port", "-1"], "--port"),
            ("crypto-butler", ["--jobs-interval", "inf"], "--jobs-interval"), ("crypto-butler", ["--jobs-interval", "0"], "--jobs-interval"),
        ] {
            let (status, output) = try await ProgramRun.run(
                folder.appendingPathComponent(program), arguments: arguments, environment: nil, timeout: .seconds(60))
            #expect(status != 0, "\(program) started with \(arguments)")
            #expect(output.contains(named), "\(program) did not name \(named): \(output)")
        }

        let cases: [(program: String, variable: String, value: String)] = [
            ("crypto-butler", "BUTLER_TOKENS", "secret-token=alice"),
            ("saas-api", "ENV", "prod"),
            ("saas-api", "SLOW_REQUEST_MS", "fast"),
        ]
        for (program, variable, value) in cases {
            var environment = ProcessInfo.processInfo.environment
            environment[variable] = value
            environment["DATABASE_URL"] = nil
            let (status, output) = try await ProgramRun.run(
                folder.appendingPathComponent(program), arguments: ["--port", "0"], environment: environment, timeout: .seconds(60))
            #expect(status != 0, "\(program) started with \(variable)=\(value)")
            #expect(output.contains(variable), "\(program) did not name \(variable): \(output)")
            #expect(!output.contains("secret-token"))
        }
    }
}
