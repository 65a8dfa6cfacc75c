import ExampleSupport
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

    /// The largest amount of a holding: a value times any price stays finite, so every
    /// valuation of a stored portfolio can be answered.
    public static let maximumAmount = 1e15

    /// The input as it is stored: the name trimmed, each coin id trimmed and in lower case (as
    /// CoinGecko writes them, so `Bitcoin` and `bitcoin` are one coin).
    public var normalized: PortfolioInput {
        PortfolioInput(
            name: ExampleText.trimmed(name),
            holdings: holdings.map { Holding(coin: ExampleText.trimmed($0.coin).lowercased(), amount: $0.amount) })
    }

    /// What is wrong with the input as stored (``normalized``), or `nil`.
    public var problem: String? {
        let input = normalized
        if let problem = ExampleText.problem(input.name, name: "name", maximum: 100) { return problem }
        if input.holdings.count > 100 { return "at most 100 holdings" }
        if Set(input.holdings.map(\.coin)).count != input.holdings.count { return "each coin may appear once" }
        for holding in input.holdings {
            if holding.coin.isEmpty || holding.coin.count > 64
                || !holding.coin.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
            {
                return "coin ids have 1 to 64 characters among a-z, 0-9 and -"
            }
            if !holding.amount.isFinite || holding.amount < 0 || holding.amount > Self.maximumAmount {
                return "amounts must be finite, from 0 to \(Self.maximumAmount)"
            }
        }
        return nil
    }
}
