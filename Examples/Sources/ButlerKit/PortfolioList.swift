public import Hummingbird

/// `GET /v1/portfolios`: the caller's portfolios.
public struct PortfolioList: ResponseCodable, Sendable {
    /// The portfolios, by id.
    public var portfolios: [Portfolio]
}

extension Portfolio: ResponseCodable {}
extension Valuation: ResponseCodable {}
