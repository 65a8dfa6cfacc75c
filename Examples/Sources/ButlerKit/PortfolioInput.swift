import Foundation

/// The body of `POST /v1/portfolios`.
public struct PortfolioInput: Codable, Sendable {
    /// One holding.
    public struct Holding: Codable, Sendable, Equatable {
        /// The coin's CoinGecko id, `bitcoin`.
        public var coin: String
        /// How much of it.
        public var amount: Double
    }

    /// The portfolio's name, 1 to 100 characters.
    public var name: String
    /// Its holdings, each coin at most once, amounts not negative.
    public var holdings: [Holding]

    /// What is wrong with the input, or `nil`.
    public var problem: String? {
        if name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 100 { return "name must have 1 to 100 characters" }
        if holdings.count > 100 { return "at most 100 holdings" }
        if Set(holdings.map(\.coin)).count != holdings.count { return "each coin may appear once" }
        for holding in holdings {
            if holding.coin.isEmpty || holding.coin.count > 64 { return "coin ids have 1 to 64 characters" }
            if !holding.amount.isFinite || holding.amount < 0 { return "amounts must be finite and not negative" }
        }
        return nil
    }
}
