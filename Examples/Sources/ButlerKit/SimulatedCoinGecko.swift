import ExampleSupport
import Synchronization

/// CoinGecko's API, simulated in-process: prices and market-cap rankings of a fixed set of coins,
/// deterministic so that running a job twice writes the same rows.
public struct SimulatedCoinGecko: Sendable {
    /// The coins tracked.
    public static let coins = [
        "bitcoin", "ethereum", "solana", "binancecoin", "ripple", "cardano", "dogecoin", "avalanche-2", "polkadot", "chainlink",
        "tron", "polygon", "litecoin", "uniswap", "stellar",
    ]

    /// The simulated API.
    public let service: SimulatedService
    private let counter = CallCounter(label: "butler_coingecko_calls_total")

    /// An API answering after `latency`.
    public init(latency: Duration) {
        service = SimulatedService(name: "simulated CoinGecko", latency: latency...latency)
    }

    /// How many calls were made so far (`butler_coingecko_calls_total` in `/metrics`).
    public var calls: Int { counter.value }

    /// `/simple/price` for every tracked coin, in one call.
    public func prices() async throws -> [String: Double] {
        counter.add()
        return try await service.call { Dictionary(uniqueKeysWithValues: Self.coins.map { ($0, Self.price(of: $0)) }) }
    }

    /// `/coins/markets`: rank and market cap of every tracked coin.
    public func rankings() async throws -> [(coin: String, rank: Int, marketCap: Double)] {
        counter.add()
        return try await service.call {
            Self.coins.sorted { Self.price(of: $0) > Self.price(of: $1) }.enumerated().map { index, coin in
                (coin, index + 1, Self.price(of: coin) * 1_000_000)
            }
        }
    }

    /// A coin's (fixed) simulated price.
    public static func price(of coin: String) -> Double {
        Double(coin.unicodeScalars.reduce(7) { ($0 * 31 + Int($1.value)) % 100_000 }) / 10
    }
}
