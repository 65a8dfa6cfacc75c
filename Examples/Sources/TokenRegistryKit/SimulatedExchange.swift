import ExampleSupport

/// KuCoin's futures API, simulated in-process: `tokenCount` contracts, a latency per call, and a
/// listing that changes between cycles (about 2 % of contracts delisted and 2 % new ones listed
/// per cycle), so repeated syncs find new listings and delistings.
public struct SimulatedExchange: Sendable {
    /// How many contracts the first cycle lists.
    public let tokenCount: Int
    /// The simulated API.
    public let service: SimulatedService

    /// An exchange of `tokenCount` contracts answering after `latency`.
    public init(tokenCount: Int, latency: Duration) {
        self.tokenCount = tokenCount
        service = SimulatedService(name: "simulated KuCoin futures API", latency: latency...latency)
    }

    /// The contracts listed in cycle `cycle` (0 for the first), after the API's latency.
    public func fetchTokens(cycle: Int) async throws -> [ExchangeToken] {
        try await service.call { Self.listing(tokenCount: tokenCount, cycle: cycle) }
    }

    /// The listing of a cycle, without latency: the first `tokenCount` contracts minus those
    /// delisted by cycle `cycle`, plus those listed since.
    public static func listing(tokenCount: Int, cycle: Int) -> [ExchangeToken] {
        let perCycle = max(1, tokenCount / 50)
        let total = tokenCount + perCycle * cycle
        return (0..<total).compactMap { index -> ExchangeToken? in
            // Contract `index` is delisted from the cycle after it was hit by the stride.
            if cycle > 0, index < tokenCount, (1...cycle).contains(where: { (index + $0 * 7) % 50 == 0 }) { return nil }
            let base = Self.baseName(index)
            return ExchangeToken(
                symbol: base + "USDTM", baseCurrency: base, maxLeverage: Int64([20, 50, 75, 100][index % 4]),
                tickSize: [0.1, 0.01, 0.001, 0.0001][index % 4])
        }
    }

    /// `AAA`, `AAB`, ... (`XBT` style names).
    static func baseName(_ index: Int) -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var value = index
        var name = ""
        for _ in 0..<4 {
            name = String(letters[value % 26]) + name
            value /= 26
        }
        return name
    }
}
