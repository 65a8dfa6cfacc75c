import CircuitBreaker
import Testing

/// The CircuitBreaker DocC article's example, run as written.
@Suite struct CircuitBreakerDocumentationExampleTests {
    struct RPCError: Error {}

    @Test func articleExampleWorksAsWritten() async throws {
        var configuration = CircuitBreakerConfiguration()
        configuration.consecutiveFailures = 3
        configuration.openDuration = .seconds(30)
        let breaker = try CircuitBreaker(name: "rpc", configuration: configuration)

        for _ in 0..<3 {
            _ = try? await breaker.run { () async throws -> Int in throw RPCError() }
        }
        #expect(breaker.state == .open)
        var attempts = 0
        do {
            _ = try await retry(RetryPolicy(maxAttempts: 3)) {
                attempts += 1
                return try await breaker.run { 42 }
            }
            Issue.record("the breaker is open")
        } catch let error as CircuitBreakerError {
            #expect("\(error)".hasPrefix("the circuit breaker is open"))
        }
        #expect(attempts == 1, "an open breaker is not retried")
        let delays = RetryPolicy.databaseLocked { _ in true }
        #expect(delays.maxAttempts == 3 && delays.initialDelay == .milliseconds(100))
    }
}
