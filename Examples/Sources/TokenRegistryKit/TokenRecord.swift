/// A token as the registry stores it (a row of `registry_tokens`).
public struct TokenRecord: Sendable, Hashable {
    /// The exchange symbol, `XBTUSDTM`.
    public var symbol: String
    /// The base currency, `XBT`.
    public var baseCurrency: String
    /// The quote currency, `USDT`.
    public var quoteCurrency: String
    /// `active` or `delisted`.
    public var status: String
    /// Whether the token was first seen by the latest sync that saw it.
    public var isNew: Bool
    /// When the registry first saw it, in milliseconds since 1970.
    public var firstSeen: Int64
    /// When a sync last saw it listed, in milliseconds since 1970.
    public var lastSeen: Int64
    /// The exchange's maximum leverage.
    public var maxLeverage: Int64
    /// The price increment.
    public var tickSize: Double

    /// A record with every field given.
    public init(
        symbol: String, baseCurrency: String, quoteCurrency: String, status: String, isNew: Bool, firstSeen: Int64,
        lastSeen: Int64, maxLeverage: Int64, tickSize: Double
    ) {
        self.symbol = symbol
        self.baseCurrency = baseCurrency
        self.quoteCurrency = quoteCurrency
        self.status = status
        self.isNew = isNew
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.maxLeverage = maxLeverage
        self.tickSize = tickSize
    }

    /// The badge the reference prints next to a listing.
    public var badge: String { isNew ? "NEW" : status == "delisted" ? "DELISTED" : "ACTIVE" }
}
