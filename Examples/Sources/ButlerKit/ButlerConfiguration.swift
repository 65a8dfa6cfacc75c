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

    /// The demo token the default table holds.
    public static let demoToken = "butler-demo-token"

    /// Settings from the environment (`BUTLER_TOKENS`; `BUTLER_API_LATENCY_MS`, the simulated
    /// APIs' latency, 100 by default), with the defaults otherwise.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        var tokens: [String: String] = [:]
        for pair in (environment["BUTLER_TOKENS"] ?? "").split(separator: ",") {
            let parts = pair.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { tokens[String(parts[0])] = String(parts[1]) }
        }
        self.tokens = tokens.isEmpty ? [Self.demoToken: "demo"] : tokens
        jobsInterval = .seconds(60)
        apiLatency = .milliseconds(environment["BUTLER_API_LATENCY_MS"].flatMap { Int($0) }.map { max($0, 0) } ?? 100)
        coinGeckoInterval = .seconds(2)
    }
}
