/// A portfolio as the API returns it.
public struct Portfolio: Codable, Sendable, Equatable {
    /// Its id.
    public var id: Int64
    /// Its name.
    public var name: String
    /// Its holdings, by coin.
    public var holdings: [PortfolioInput.Holding]

    /// A portfolio.
    public init(id: Int64, name: String, holdings: [PortfolioInput.Holding]) {
        self.id = id
        self.name = name
        self.holdings = holdings
    }
}
