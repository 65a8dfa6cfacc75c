/// `GET /v1/portfolios/:id/valuation`: each holding at its cached price, and the total.
public struct Valuation: Codable, Sendable {
    /// One holding's value.
    public struct Line: Codable, Sendable {
        /// The coin.
        public var coin: String
        /// The amount held.
        public var amount: Double
        /// The price in USD (`nil` when no price is known).
        public var priceUSD: Double?
        /// amount × price.
        public var valueUSD: Double
    }

    /// The portfolio.
    public var portfolioID: Int64
    /// The lines, by coin.
    public var lines: [Line]
    /// The sum of the lines.
    public var totalUSD: Double
}
