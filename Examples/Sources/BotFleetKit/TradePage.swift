/// One page of a bot's trade history, with the totals a paginated API returns.
public struct TradePage: Sendable, Hashable {
    /// The trades' ids on this page, newest first.
    public var tradeIDs: [Int64]
    /// Trades in all.
    public var total: Int
    /// The page number, from 1.
    public var page: Int
    /// Pages in all.
    public var pages: Int
    /// Trades per page.
    public var limit: Int

    /// The reference's rule: 100 per page by default, at most 1,000, at least 1.
    public static func clampedLimit(_ requested: Int?) -> Int {
        min(1_000, max(1, requested ?? 100))
    }

    /// A page.
    public init(tradeIDs: [Int64], total: Int, page: Int, pages: Int, limit: Int) {
        self.tradeIDs = tradeIDs
        self.total = total
        self.page = page
        self.pages = pages
        self.limit = limit
    }
}
