public import Hummingbird

/// `page` and `limit` from a query string: page ≥ 1 (default 1), limit 1...1000 (default 100).
public struct PageRequest: Sendable {
    /// The page, from 1.
    public var page: Int
    /// Items per page.
    public var limit: Int

    /// Reads and checks `page` and `limit`; a value that is not a number in range is a 400.
    public init(_ request: Request) throws {
        let query = request.uri.queryParameters
        page = try Self.number(query["page"].map(String.init), default: 1, range: 1...1_000_000, name: "page")
        limit = try Self.number(query["limit"].map(String.init), default: 100, range: 1...1_000, name: "limit")
    }

    /// The rows to skip.
    public var offset: Int { (page - 1) * limit }

    static func number(_ text: String?, default value: Int, range: ClosedRange<Int>, name: String) throws -> Int {
        guard let text else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw HTTPError(.badRequest, message: "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}
