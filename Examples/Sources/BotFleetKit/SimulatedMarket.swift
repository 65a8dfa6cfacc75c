import ExampleSupport

/// An exchange's market data API, simulated in-process: OHLCV candles, funding rates and tickers
/// for a few symbols, each call taking 100–300 ms (configurable).
public struct SimulatedMarket: Sendable {
    /// The symbols traded.
    public static let symbols = [
        "BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT", "XRP/USDT", "ADA/USDT", "DOGE/USDT", "AVAX/USDT", "DOT/USDT", "LINK/USDT",
    ]

    /// The simulated API.
    public let service: SimulatedService

    /// A market answering after a latency drawn from `latency`.
    public init(latency: ClosedRange<Duration> = .milliseconds(100)...(.milliseconds(300))) {
        service = SimulatedService(name: "simulated exchange", latency: latency)
    }

    /// 100 hourly closes of `symbol`, oldest first.
    public func ohlcv(_ symbol: String) async throws -> [Double] {
        try await service.call {
            let base = Self.basePrice(symbol)
            return (0..<100).map { (hour: Int) -> Double in
                let step = Double((hour * 37) % 11 - 5)
                return base * (1 + 0.002 * step)
            }
        }
    }

    /// The current funding rate of `symbol`.
    public func fundingRate(_ symbol: String) async throws -> Double {
        try await service.call { 0.0001 * Double(symbol.count % 5) }
    }

    /// The last price of `symbol`.
    public func ticker(_ symbol: String) async throws -> Double {
        try await service.call { Self.basePrice(symbol) }
    }

    static func basePrice(_ symbol: String) -> Double {
        Double(symbol.unicodeScalars.reduce(0) { $0 + Int($1.value) } * 17 % 5_000 + 1)
    }
}
