/// A limit of "so many per period": what ``TokenBucket`` (one process) and `RedisTokenBucket`
/// (the RedisRateLimit module, a whole fleet) both are, so code that paces its calls can take
/// either.
///
/// ```swift
/// func fetchAll(_ urls: [URL], pacedBy limit: some RateLimiting) async throws {
///     for url in urls {
///         try await limit.acquire(cost: 1)
///         try await download(url)
///     }
/// }
/// ```
public protocol RateLimiting: Sendable {
    /// Takes `cost` units now if the limit allows; returns `nil` then, or how long until it would.
    ///
    /// #### Errors
    /// What the limit's storage throws (none for ``TokenBucket``).
    func tryAcquire(cost: Int) async throws -> Duration?

    /// Waits until `cost` units are allowed, then takes them.
    ///
    /// #### Errors
    /// `CancellationError` when the task is cancelled while waiting (nothing is taken then), and
    /// what the limit's storage throws.
    func acquire(cost: Int) async throws
}
