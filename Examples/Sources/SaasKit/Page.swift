public import Hummingbird

/// A page of a list endpoint: the items and the totals (`GET /leads?page=2&limit=100`).
public struct Page<Item: Codable & Sendable>: ResponseCodable, Sendable {
    /// The items on this page.
    public var items: [Item]
    /// Items in all.
    public var total: Int
    /// This page, from 1.
    public var page: Int
    /// Pages in all (at least 1).
    public var pages: Int
    /// Items per page.
    public var limit: Int

    /// A page.
    public init(items: [Item], total: Int, page: Int, limit: Int) {
        self.items = items
        self.total = total
        self.page = page
        self.limit = limit
        pages = max(1, (total + limit - 1) / limit)
    }
}
