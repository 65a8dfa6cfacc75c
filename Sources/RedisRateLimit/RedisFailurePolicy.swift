/// What a fleet limiter does while Redis cannot be reached (refused connections, timeouts, a
/// pool with no connection): deny, allow, or limit this process alone to its share of the quota.
///
/// ```swift
/// let bucket = try RedisTokenBucket(
///     name: "coingecko", rate: 30, per: .seconds(60), burst: 5, client: redis,
///     failurePolicy: .localFallback(share: 0.25))   // one of four processes
/// ```
///
/// The limiter switches to the policy as soon as one Redis call fails (so within one command
/// timeout), logs the switch once, counts the decisions it takes without Redis, and asks Redis
/// again once per probe interval until it answers.
public struct RedisFailurePolicy: Sendable, Hashable, CustomStringConvertible {
    enum Base: Hashable, Sendable {
        case failClosed
        case failOpen
        case localFallback(share: Double)
    }

    let base: Base

    /// Deny every call while Redis is unreachable (``RedisRateLimitError/Code/unavailable``): the
    /// default, for quotas that cost money or a ban when exceeded.
    public static let failClosed = RedisFailurePolicy(base: .failClosed)

    /// Allow every call while Redis is unreachable: for limits that protect nothing critical.
    public static let failOpen = RedisFailurePolicy(base: .failOpen)

    /// Limit this process alone to `share` of the quota (0 < `share` ≤ 1; `1 / N` for a fleet of
    /// N processes) while Redis is unreachable.
    public static func localFallback(share: Double) -> RedisFailurePolicy {
        RedisFailurePolicy(base: .localFallback(share: share))
    }

    /// The policy's name, as in code: `failClosed`, `failOpen`, `localFallback(share: 0.25)`.
    public var description: String {
        switch base {
        case .failClosed: "failClosed"
        case .failOpen: "failOpen"
        case .localFallback(let share): "localFallback(share: \(share))"
        }
    }

    /// The share of a local fallback, `nil` for the other policies.
    var localShare: Double? {
        if case .localFallback(let share) = base { return share }
        return nil
    }
}
