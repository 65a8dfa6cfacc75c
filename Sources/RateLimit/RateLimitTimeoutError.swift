/// No permit came before the timeout of ``RateLimiter/acquire(timeout:)``.
public struct RateLimitTimeoutError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The timeout that ran out.
    public let timeout: Duration

    /// Creates an error.
    public init(timeout: Duration) { self.timeout = timeout }

    /// What happened and what to do.
    public var description: String {
        "no rate-limit permit within \(timeout): the limiter is saturated; raise the timeout or lower the load"
    }
}
