import Cache
import Testing

/// The Cache DocC article's example, run as written.
@Suite struct CacheDocumentationExampleTests {
    @Test func articleExampleWorksAsWritten() async throws {
        var configuration = CacheConfiguration<String, Double>(maximumCapacity: 10_000, timeToLive: .seconds(60))
        configuration.staleIfErrorFor = .seconds(300)
        let prices = try Cache(configuration: configuration)

        let btc = try await prices.value(for: "bitcoin") { 97_000.0 }
        prices.insert(contentsOf: [("ethereum", 3_400.0), ("solana", 180.0)], tag: "coingecko")
        #expect(btc == 97_000 && prices.value(for: "ethereum") == 3_400)
        prices.invalidate(tag: "coingecko")
        #expect(prices.value(for: "ethereum") == nil)
        #expect(prices.statistics.hits == 1)
        prices.insert(1.0, for: "usdt:ethereum")
        prices.invalidate(keyPrefix: "usdt:")
        #expect(prices.value(for: "usdt:ethereum") == nil)
    }
}
