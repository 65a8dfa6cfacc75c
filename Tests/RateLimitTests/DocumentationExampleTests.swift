import RateLimit
import Testing

/// The RateLimit DocC article's example, run as written.
@Suite struct RateLimitDocumentationExampleTests {
    @Test func articleExampleWorksAsWritten() async throws {
        let okx = RateLimiter.okx()
        let symbols = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT"]
        let prices = try await symbols.concurrentMap(maxConcurrency: 10, limiter: okx) { symbol in
            "\(symbol): price"
        }
        #expect(prices.first == "BTC-USDT: price" && prices.count == 4)
        #expect(okx.statistics.acquired == 4)

        let bucket = TokenBucket(rate: 30, per: .seconds(60), burst: 5)
        #expect(bucket.tryAcquire() == nil)
    }
}
