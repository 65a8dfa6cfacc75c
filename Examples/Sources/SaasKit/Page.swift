public import Hummingbird

/// A page of a list endpoint: the items and the totals (`GET /leads?page=2&limit=100`).
public struct Page<Item: JSONWritable>: Codable, Sendable, ResponseGenerator {
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

    /// The page as JSON, written with ``JSONWriter``:
    /// `{"items":[…],"total":250,"page":1,"pages":3,"limit":100}`.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var writer = JSONWriter(capacity: 64 + items.count * 128)
        writer.raw("{\"items\":[")
        // By index: `enumerated()` in this generic context looks up the (offset, element) tuple's
        // metadata on every step.
        for index in items.indices {
            if index > 0 { writer.raw(",") }
            items[index].write(to: &writer)
        }
        writer.raw("],\"total\":")
        writer.number(total)
        writer.raw(",\"page\":")
        writer.number(page)
        writer.raw(",\"pages\":")
        writer.number(pages)
        writer.raw(",\"limit\":")
        writer.number(limit)
        writer.raw("}")
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(writer.bytes.count)],
            body: .init(byteBuffer: writer.buffer))
    }
}
