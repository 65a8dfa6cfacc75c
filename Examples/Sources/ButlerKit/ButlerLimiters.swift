public import RateLimit
public import Redis
import RedisRateLimit

/// The limits crypto-butler's jobs call through: kept in this process, or in Redis and shared by
/// every process of the fleet (so four instances together stay within one CoinGecko quota).
public struct ButlerLimiters: Sendable {
    /// CoinGecko: 5 at once, starts at least `coinGeckoInterval` apart.
    public let coinGecko: any PermitLimiting
    /// EVM RPC: 5 at once, starts at least 50 ms apart.
    public let evm: any PermitLimiting
    /// Where the limits are kept, for the start-up log.
    public let placement: String
    /// Sends the limiters' statistics to their metrics (`keel_ratelimit_…` in this process,
    /// `keel_redis_limiter_…` in Redis), for `/metrics`.
    public let publishMetrics: @Sendable () -> Void

    /// Limits of this process alone.
    public static func inProcess(coinGeckoInterval: Duration) -> ButlerLimiters {
        let coinGecko = RateLimiter(maxConcurrent: 5, minInterval: coinGeckoInterval, name: "coingecko")
        let evm = RateLimiter(limits: .evmRPC, name: "evm")
        return ButlerLimiters(
            coinGecko: coinGecko, evm: evm, placement: "in-process (set REDIS_URL to share them across processes)",
            publishMetrics: {
                coinGecko.publishMetrics()
                evm.publishMetrics()
            })
    }

    /// Limits every process on `redis` shares: CoinGecko's denies while Redis is unreachable (a
    /// paid quota), the EVM RPC's falls back to `1 / processes` of its limits.
    ///
    /// #### Errors
    /// `RedisRateLimitError` for a setting out of range.
    public static func fleet(
        redis: RedisClient, at address: String, coinGeckoInterval: Duration, processes: Int = 4
    ) throws -> ButlerLimiters {
        let coinGecko = try RedisRateLimiter(
            name: "crypto-butler:coingecko", limits: PermitLimits(maxConcurrent: 5, minInterval: coinGeckoInterval),
            client: redis, pollInterval: .milliseconds(20))
        let evm = try RedisRateLimiter(
            name: "crypto-butler:evm", limits: .evmRPC, client: redis, pollInterval: .milliseconds(20),
            failurePolicy: .localFallback(share: 1 / Double(max(processes, 1))))
        return ButlerLimiters(
            coinGecko: coinGecko, evm: evm, placement: "fleet-wide, in Redis at \(address)",
            publishMetrics: {
                coinGecko.publishMetrics()
                evm.publishMetrics()
            })
    }
}
