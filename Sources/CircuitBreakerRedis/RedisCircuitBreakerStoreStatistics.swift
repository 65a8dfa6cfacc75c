/// What a ``RedisCircuitBreakerStore`` did in this process since it was made.
public struct RedisCircuitBreakerStoreStatistics: Sendable, Hashable {
    /// State changes of this process's breakers written to Redis and published.
    public var published = 0
    /// State changes of other processes' breakers of a name this process follows, handed to its
    /// breakers.
    public var received = 0
    /// Times the stored openings were read from Redis (a breaker started following its name, or
    /// the subscription came back).
    public var storedStateReads = 0
    /// Openings found by those reads and handed to this process's breakers.
    public var restored = 0
    /// Redis operations that failed (each state change that could not be shared is one).
    public var redisFailures = 0
    /// Times Redis became unreachable (each logged once).
    public var outages = 0
}
