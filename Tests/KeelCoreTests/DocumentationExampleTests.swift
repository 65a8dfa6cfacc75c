import KeelCore
import Testing

/// The KeelCore DocC article's example, run as written.
@Suite struct KeelCoreDocumentationExampleTests {
    struct Unavailable: Error {}

    @Test func articleExampleWorksAsWritten() async throws {
        let attempts = Locked(0)
        func fetchQuote() async throws -> Double {
            let attempt = attempts.withLock { count in
                count += 1
                return count
            }
            if attempt < 3 { throw Unavailable() }
            return 97_000
        }

        let backoff = Backoff(initialDelay: .milliseconds(10), maximumDelay: .seconds(1), jitter: .equal)
        var random = SplitMix64(seed: 42)
        var failures = 0
        var quote: Double?
        while quote == nil {
            do {
                quote = try await fetchQuote()
            } catch {
                failures += 1
                try await Task.sleep(for: backoff.delay(afterFailure: failures, using: &random))
            }
        }
        #expect(quote == 97_000 && failures == 2)

        let checksum = await BlockingThread.run(name: "keel.checksum") {
            (1...1_000).reduce(0, &+)
        }
        #expect(checksum == 500_500)
    }
}
