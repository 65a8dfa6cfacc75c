public import ExampleSupport
import Foundation

/// crypto-butler's settings.
public struct ButlerConfiguration: Sendable {
    /// Token to user: `BUTLER_TOKENS="token:user,token:user"`; default one demo token.
    public var tokens: [String: String]
    /// How often the background jobs run; `nil` runs them once at start only.
    public var jobsInterval: Duration?
    /// The simulated external APIs' latency.
    public var apiLatency: Duration
    /// CoinGecko's minimum interval between calls (the reference's 2 s).
    public var coinGeckoInterval: Duration
    /// How long a request's body may take to arrive in all (`HTTP_BODY_TIMEOUT_SECS`, 120 by
    /// default); past it, 408.
    public var bodyTimeout: Duration

    /// The demo token the default table holds.
    public static let demoToken = "butler-demo-token"

    /// Settings from the environment (`BUTLER_TOKENS`, `token:user` pairs separated by commas,
    /// spaces around them ignored, the demo token when the variable is absent;
    /// `BUTLER_API_LATENCY_MS`, the simulated APIs' latency, 100 by default), with the defaults
    /// otherwise.
    ///
    /// #### Errors
    /// `ExampleConfigurationError` naming the variable when a value is present but does not
    /// parse (a service must never fall back to the demo token because of a typo); the tokens
    /// themselves never appear in it.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ExampleConfigurationError) {
        tokens = try Self.tokens(environment["BUTLER_TOKENS"]) ?? [Self.demoToken: "demo"]
        apiLatency = .milliseconds(try ExampleConfigurationError.integer("BUTLER_API_LATENCY_MS", in: environment, default: 100, range: 0...60_000))
        jobsInterval = .seconds(60)
        coinGeckoInterval = .seconds(2)
        bodyTimeout = try ExampleServer.bodyTimeout(in: environment)
    }

    /// The token table `BUTLER_TOKENS` holds; `nil` when it is absent.
    static func tokens(_ text: String?) throws(ExampleConfigurationError) -> [String: String]? {
        guard let text else { return nil }
        func refuse(_ problem: String) -> ExampleConfigurationError {
            ExampleConfigurationError(variable: "BUTLER_TOKENS", problem: problem)
        }
        var tokens: [String: String] = [:]
        for (index, entry) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let parts = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw refuse("entry \(index + 1) is not token:user (pairs are separated by commas)")
            }
            guard !parts[0].contains(where: \.isWhitespace) else { throw refuse("the token of entry \(index + 1) contains a space") }
            guard !parts[1].contains(where: { $0 == ":" || $0.isWhitespace }) else {
                throw refuse("the user of entry \(index + 1) contains a colon or a space (pairs are separated by commas)")
            }
            guard tokens.updateValue(parts[1], forKey: parts[0]) == nil else {
                throw refuse("entry \(index + 1) repeats the token of an earlier entry")
            }
        }
        return tokens
    }
}
