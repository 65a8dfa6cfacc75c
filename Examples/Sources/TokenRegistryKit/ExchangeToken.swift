/// A futures contract as the (simulated) exchange lists it.
public struct ExchangeToken: Sendable, Hashable {
    /// The symbol, `XBTUSDTM`.
    public var symbol: String
    /// The base currency.
    public var baseCurrency: String
    /// The maximum leverage.
    public var maxLeverage: Int64
    /// The price increment.
    public var tickSize: Double

    /// A listing.
    public init(symbol: String, baseCurrency: String, maxLeverage: Int64, tickSize: Double) {
        self.symbol = symbol
        self.baseCurrency = baseCurrency
        self.maxLeverage = maxLeverage
        self.tickSize = tickSize
    }
}
