import ButlerKit
import ExampleSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// crypto-butler in-process (Hummingbird's router test client) on both databases: every endpoint,
/// auth failures, bad input, and idempotent jobs.
@Suite(.serialized) struct CryptoButlerTests {
    static let alice: HTTPFields = [.authorization: "Bearer alice-token", .contentType: "application/json"]
    static let bob: HTTPFields = [.authorization: "Bearer bob-token", .contentType: "application/json"]

    static func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(buffer: response.body))
    }

    /// `{"error":{"message":"..."}}`: 4xx answers are JSON.
    static func errorMessage(_ response: TestResponse) -> String? {
        struct Envelope: Decodable {
            struct Detail: Decodable { let message: String }
            let error: Detail
        }
        return try? decode(Envelope.self, response).error.message
    }

    @Test(arguments: ExampleDatabases.kinds)
    func healthAndMetricsAnswer(_ kind: ExampleDatabases.Kind) async throws {
        try await ButlerTesting.withButler(kind) { _, client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""status":"ok""#))
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#"keel_cache_entries{cache="crypto-butler-prices"}"#))
            }
        }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func portfoliosNeedAValidBearerToken(_ kind: ExampleDatabases.Kind) async throws {
        try await ButlerTesting.withButler(kind) { _, client in
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"], [.authorization: "Basic YWxpY2U6eA=="]] {
                try await client.execute(uri: "/v1/portfolios", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    #expect(Self.errorMessage(response) != nil, "a 401 is a JSON error")
                }
            }
            try await client.execute(uri: "/v1/portfolios", method: .post, headers: [.contentType: "application/json"],
                                     body: Self.body(#"{"name":"x","holdings":[]}"#)) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func createListAndValueAPortfolio(_ kind: ExampleDatabases.Kind) async throws {
        try await ButlerTesting.withButler(kind) { butler, client in
            let created = try await client.execute(
                uri: "/v1/portfolios", method: .post, headers: Self.alice,
                body: Self.body(#"{"name":"Long term","holdings":[{"coin":"ethereum","amount":2},{"coin":"bitcoin","amount":0.5}]}"#)
            ) { response in
                #expect(response.status == .created)
                return try Self.decode(Portfolio.self, response)
            }
            #expect(created.name == "Long term" && created.holdings.map(\.coin) == ["bitcoin", "ethereum"])

            try await client.execute(uri: "/v1/portfolios", method: .get, headers: Self.alice) { response in
                #expect(response.status == .ok)
                let list = try Self.decode(PortfolioList.self, response)
                #expect(list.portfolios == [created])
            }
            try await client.execute(uri: "/v1/portfolios", method: .get, headers: Self.bob) { response in
                let list = try Self.decode(PortfolioList.self, response)
                #expect(list.portfolios.isEmpty, "bob sees only his own")
            }

            // Prices come from the collection job (through the price cache).
            try await butler.jobs.collectPrices()
            try await client.execute(uri: "/v1/portfolios/\(created.id)/valuation", method: .get, headers: Self.alice) { response in
                #expect(response.status == .ok)
                let valuation = try Self.decode(Valuation.self, response)
                let expected = 0.5 * SimulatedCoinGecko.price(of: "bitcoin") + 2 * SimulatedCoinGecko.price(of: "ethereum")
                #expect(abs(valuation.totalUSD - expected) < 1e-6)
                #expect(valuation.lines.allSatisfy { $0.priceUSD != nil })
            }
            for (uri, headers, status) in [
                ("/v1/portfolios/\(created.id)/valuation", Self.bob, HTTPResponse.Status.notFound),
                ("/v1/portfolios/999999/valuation", Self.alice, .notFound),
                ("/v1/portfolios/abc/valuation", Self.alice, .badRequest),
            ] {
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    #expect(response.status == status, "\(uri)")
                    #expect(Self.errorMessage(response) != nil)
                }
            }
        }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func badInputIsRefusedWithAJSONErrorAndNothingWritten(_ kind: ExampleDatabases.Kind) async throws {
        try await ButlerTesting.withButler(kind) { butler, client in
            let bodies: [(String, HTTPResponse.Status)] = [
                (#"{"name":"broken","holdings":["#, .badRequest),
                (#"{"name":5,"holdings":[]}"#, .badRequest),
                (#"{"holdings":[]}"#, .badRequest),
                (#"{"name":"x","holdings":[{"coin":"bitcoin","amount":"lots"}]}"#, .badRequest),
                (#"{"name":"x","holdings":[{"coin":"bitcoin","amount":-1}]}"#, .badRequest),
                (#"{"name":"x","holdings":[{"coin":"bitcoin","amount":1},{"coin":"bitcoin","amount":2}]}"#, .badRequest),
                (#"{"name":"   ","holdings":[]}"#, .badRequest),
                (#"{"name":"big","holdings":[],"padding":""# + String(repeating: "x", count: 70_000) + #""}"#, .contentTooLarge),
            ]
            for (body, status) in bodies {
                try await client.execute(uri: "/v1/portfolios", method: .post, headers: Self.alice, body: Self.body(body)) { response in
                    #expect(response.status == status, "\(body.prefix(60))")
                    #expect(Self.errorMessage(response) != nil, "\(body.prefix(60)) answers a JSON error")
                }
            }
            #expect(try await butler.store.portfolioCount() == 0, "a refused request wrote something")
        }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func jobsAreIdempotent(_ kind: ExampleDatabases.Kind) async throws {
        try await ButlerTesting.withButler(kind) { butler, _ in
            try await butler.jobs.runAll()
            let first = try await butler.store.jobTablesSnapshot()
            try await butler.jobs.runAll()
            let second = try await butler.store.jobTablesSnapshot()
            #expect(first == second)
            let coins = SimulatedCoinGecko.coins.count
            let chains = ButlerJobs.chains.count
            // prices + rankings + contracts + balances
            #expect(first.count == coins + coins + coins * chains + ButlerJobs.wallets.count * chains)
            #expect(butler.prices.count == coins)
            // Two runs of two CoinGecko calls each.
            #expect(butler.jobs.coinGeckoCalls == 4)
        }
    }
}
