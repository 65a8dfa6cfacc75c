/// How many operations may run at once and how close together they may start: what a
/// ``RateLimiter`` (one process) and RedisRateLimit's `RedisRateLimiter` (a fleet) enforce, and
/// the vendor presets both take.
///
/// ```swift
/// let local = RateLimiter(limits: .coinGecko)
/// let fleet = try RedisRateLimiter(name: "coingecko", limits: .coinGecko, client: redis)
/// ```
public struct PermitLimits: Sendable, Hashable, CustomStringConvertible {
    /// The most operations at once; at least 1.
    public var maxConcurrent: Int
    /// The least time between two starts; zero for a plain semaphore.
    public var minInterval: Duration

    /// At most `maxConcurrent` at once, starts at least `minInterval` apart.
    public init(maxConcurrent: Int, minInterval: Duration = .zero) {
        self.maxConcurrent = maxConcurrent
        self.minInterval = minInterval
    }

    /// CoinGecko's demo plan: 5 at once, starts at least 2 s apart (about 30 requests a minute).
    /// A starting point: adjust it to your plan.
    public static let coinGecko = PermitLimits(maxConcurrent: 5, minInterval: .seconds(2))

    /// OKX's public REST limits: 3 at once, starts at least 100 ms apart.
    public static let okx = PermitLimits(maxConcurrent: 3, minInterval: .milliseconds(100))

    /// A typical EVM JSON-RPC provider's limits: 5 at once, starts at least 50 ms apart.
    public static let evmRPC = PermitLimits(maxConcurrent: 5, minInterval: .milliseconds(50))

    /// "5 at once, starts ≥ 2 s apart".
    public var description: String {
        minInterval == .zero ? "\(maxConcurrent) at once" : "\(maxConcurrent) at once, starts ≥ \(minInterval) apart"
    }
}
