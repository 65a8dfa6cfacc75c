extension RateLimiter where LimiterClock == ContinuousClock {
    /// CoinGecko's demo plan: 5 at once, starts at least 2 s apart (about 30 requests a minute).
    /// A starting point: adjust it to your plan.
    public static func coinGecko() -> RateLimiter { RateLimiter(limits: .coinGecko) }

    /// OKX's public REST limits: 3 at once, starts at least 100 ms apart.
    public static func okx() -> RateLimiter { RateLimiter(limits: .okx) }

    /// A typical EVM JSON-RPC provider's limits: 5 at once, starts at least 50 ms apart.
    public static func evmRPC() -> RateLimiter { RateLimiter(limits: .evmRPC) }
}
