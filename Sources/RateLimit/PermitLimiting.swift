/// A gate that runs operations holding a permit: what ``RateLimiter`` (one process) and
/// RedisRateLimit's `RedisRateLimiter` and `RedisConcurrencyLimit` (a fleet) all are, so code that
/// calls a limited API can take either.
///
/// ```swift
/// func price(of coin: String, through limiter: some PermitLimiting) async throws -> Double {
///     try await limiter.withPermit(isolation: #isolation) { try await api.price(coin) }
/// }
/// ```
public protocol PermitLimiting: Sendable {
    /// Runs `body` holding a permit, released when it returns or throws.
    ///
    /// #### Errors
    /// `CancellationError` when the task is cancelled while waiting (no permit is kept), what the
    /// limiter's storage throws, and whatever `body` throws.
    func withPermit<Result>(
        isolation: isolated (any Actor)?, _ body: () async throws -> Result
    ) async throws -> Result
}
