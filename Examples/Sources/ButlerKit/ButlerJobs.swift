public import CircuitBreaker
import ExampleSupport
import RateLimit
import Redis

/// crypto-butler's background jobs: price collection, top-coin rankings, contract addresses and
/// multi-chain wallet balances. Each is idempotent (upserts with `ON CONFLICT`): running it twice
/// leaves the same rows.
public struct ButlerJobs: Sendable {
    /// The chains balances are read from.
    public static let chains = ["ethereum", "arbitrum", "optimism", "base", "polygon"]
    /// The wallets tracked.
    public static let wallets = ["0xA11CE", "0xB0B", "0xCAFE"]

    let store: ButlerStore
    let coinGecko: SimulatedCoinGecko
    let evm: SimulatedService
    /// CoinGecko's limits as the reference used them (5 at once, starts ≥ 2 s apart) and the EVM
    /// RPC's (5 at once, starts ≥ 50 ms apart), in-process or fleet-wide.
    public let limiters: ButlerLimiters
    /// CoinGecko's breaker: five failures in a row stop the jobs calling it for 30 s. Each call
    /// is retried (3 attempts, exponential back-off with full jitter) while the breaker lets it.
    public let coinGeckoBreaker: CircuitBreaker<ContinuousClock>
    /// CoinGecko calls made so far.
    public var coinGeckoCalls: Int { coinGecko.calls }
    /// Chain data, 1,000 entries for 30 s (tiered, shared by the fleet, with a Redis client).
    public let chainCache: ExampleCache<Double>
    let prices: ExampleCache<Double>

    init(
        store: ButlerStore, prices: ExampleCache<Double>, apiLatency: Duration, limiters: ButlerLimiters, redis: RedisClient?
    ) throws {
        self.store = store
        self.prices = prices
        coinGecko = SimulatedCoinGecko(latency: apiLatency)
        evm = SimulatedService(name: "simulated EVM RPC", latency: apiLatency...apiLatency)
        self.limiters = limiters
        coinGeckoBreaker = try CircuitBreaker(name: "coingecko", configuration: CircuitBreakerConfiguration())
        chainCache = try ExampleCache(name: "crypto-butler-chain", maximumCapacity: 1_000, timeToLive: .seconds(30), redis: redis)
    }

    /// Runs every job once.
    public func runAll() async throws {
        try await collectPrices()
        try await collectRankings()
        try await collectContracts()
        try await collectBalances()
    }

    /// One CoinGecko call for every price, one batched upsert, and the price cache refreshed.
    public func collectPrices() async throws {
        let latest = try await callCoinGecko { try await coinGecko.prices() }
        try await store.savePrices(latest)
        await prices.insert(contentsOf: latest.map { ($0.key, $0.value) })
    }

    /// One CoinGecko call, one batched upsert of every ranking.
    public func collectRankings() async throws {
        let rankings = try await callCoinGecko { try await coinGecko.rankings() }
        try await store.saveRankings(rankings)
    }

    /// One CoinGecko call through its limiter and breaker, retried as ``coinGeckoBreaker`` says.
    func callCoinGecko<Result: Sendable>(_ call: @escaping @Sendable () async throws -> Result) async throws -> Result {
        let limiter = limiters.coinGecko
        let breaker = coinGeckoBreaker
        return try await retry(RetryPolicy(maxAttempts: 3), isolation: nil) {
            try await breaker.run { try await limiter.withPermit(isolation: nil) { try await call() } }
        }
    }

    /// Contract addresses of every coin on every chain, flushed to the database every 100.
    public func collectContracts() async throws {
        var pending: [(chain: String, address: String, coin: String)] = []
        for coin in SimulatedCoinGecko.coins {
            for chain in Self.chains {
                let digits = String((coin + chain).hashValueStable, radix: 16)
                pending.append((chain, "0x" + digits, coin))
                if pending.count == 100 {
                    try await store.saveContracts(pending)
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        if !pending.isEmpty { try await store.saveContracts(pending) }
    }

    /// Every wallet's balance on every chain, fetched in parallel through the EVM limiter and the
    /// chain-data cache, then upserted in one batch.
    public func collectBalances() async throws {
        let pairs = Self.wallets.flatMap { wallet in Self.chains.map { (wallet, $0) } }
        let evm = evm
        let cache = chainCache
        let limiter = limiters.evm
        let balances = try await pairs.concurrentMap(maxConcurrency: 5) { wallet, chain in
            try await limiter.withPermit(isolation: nil) {
                let balance = try await cache.value(for: "\(chain):\(wallet)") {
                    try await evm.call { Double((wallet + chain).hashValueStable % 10_000) / 100 }
                }
                return (wallet: wallet, chain: chain, balance: balance)
            }
        }
        try await store.saveBalances(balances)
    }
}

extension String {
    /// A hash that is the same in every process (Swift's `hashValue` is seeded per process).
    var hashValueStable: Int {
        unicodeScalars.reduce(5381) { ($0 &* 33 &+ Int($1.value)) & 0x7FFF_FFFF }
    }
}
