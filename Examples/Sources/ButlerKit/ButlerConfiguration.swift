public import ExampleSupport
import Foundation

/// crypto-butler's settings.
public struct ButlerConfiguration: Sendable {
    /// How callers authenticate: a static token table (`BUTLER_TOKENS="token:user,token:user"`),
    /// or bearer JWTs (the default; see ``ButlerJWTSettings``).
    public var authentication: ButlerAuthenticationSettings
    /// Requests per second each user (or client address, for `/health` and `/metrics`) may make
    /// (`HTTP_RATE_LIMIT_PER_SECOND`, default 50); past it, 429 with `Retry-After`.
    public var requestRate: Int
    /// How many requests a user may make at once (`HTTP_RATE_LIMIT_BURST`, default 100).
    public var requestBurst: Int
    /// The period of ``requestRate``: a second.
    public var requestPeriod: Duration = .seconds(1)
    /// How often the background jobs run; `nil` runs them once at start only.
    public var jobsInterval: Duration?
    /// The simulated external APIs' latency.
    public var apiLatency: Duration
    /// CoinGecko's minimum interval between calls (the reference's 2 s).
    public var coinGeckoInterval: Duration
    /// How long a request's body may take to arrive in all (`HTTP_BODY_TIMEOUT_SECS`, 120 by
    /// default); past it, 408.
    public var bodyTimeout: Duration

    /// Settings from the environment (`BUTLER_TOKENS`, `token:user` pairs separated by commas,
    /// spaces around them ignored, or the JWT settings of ``ButlerJWTSettings`` when it is absent;
    /// `BUTLER_API_LATENCY_MS`, the simulated APIs' latency, 100 by default;
    /// `HTTP_RATE_LIMIT_PER_SECOND` and `HTTP_RATE_LIMIT_BURST`), with the defaults otherwise.
    ///
    /// #### Errors
    /// `ExampleConfigurationError` naming the variable when a value is present but does not
    /// parse (a service must never fall back to demo keys because of a typo); tokens and secrets
    /// themselves never appear in it.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ExampleConfigurationError) {
        authentication = try ButlerAuthenticationSettings(environment: environment)
        (requestRate, requestBurst) = try RequestRateLimits.settings(in: environment)
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
