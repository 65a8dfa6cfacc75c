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

    @Test func spacesAroundPairsAreIgnoredAndTheDemoTokenOnlyServesWhenNoTableIsGiven() throws {
        let configuration = try ButlerConfiguration(environment: ["BUTLER_TOKENS": "tokA:alice, tokB:bob "])
        #expect(configuration.tokens == ["tokA": "alice", "tokB": "bob"])
        #expect(try ButlerConfiguration(environment: [:]).tokens == [ButlerConfiguration.demoToken: "demo"])
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
