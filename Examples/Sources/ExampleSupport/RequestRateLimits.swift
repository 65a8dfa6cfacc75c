import Cache
import CoreMetrics
import Foundation
import KeelCore
import RateLimit
public import Redis
import RedisRateLimit

/// Per-caller request limits of an example service: a GCRA bucket of `rate` per `period` (a
/// second unless told otherwise) with bursts of `burst` for each caller (a user, or a client address), kept in this process or, with
/// a Redis client, in Redis and shared by every process of the fleet.
///
/// The buckets are kept in a `Cache` (100,000 at most) until they have been idle long enough to
/// be full again, so memory stays bounded however many callers come. A fleet bucket that cannot reach Redis limits
/// on its own in this process. Refusals are counted in `http_requests_rate_limited_total`
/// (dimension `scope`).
///
/// ```swift
/// let limits = try RequestRateLimits(name: "saas-api", rate: 50, burst: 100, redis: nil)
/// if let wait = await limits.wait(for: "address:127.0.0.1") { print("429, retry in \(wait)") }
/// ```
public final class RequestRateLimits: Sendable {
    /// The service's name: the prefix of the fleet buckets' names.
    public let name: String
    /// Requests each caller may make per ``period``.
    public let rate: Int
    /// The period of ``rate``.
    public let period: Duration
    /// How many a caller may make at once.
    public let burst: Int
    private let redis: RedisClient?
    private let buckets: Cache<String, any RateLimiting, ContinuousClock>
    /// Held while a caller's first bucket is made, so that two first requests share one.
    private let making = Locked(())
    private let refusedUsers: Counter
    private let refusedAddresses: Counter

    /// Limits of `rate` per `period` with bursts of `burst`, in Redis when `redis` is given.
    ///
    /// #### Errors
    /// `CacheConfigurationError` never in practice (the bucket cache's settings are fixed).
    public init(name: String, rate: Int, per period: Duration = .seconds(1), burst: Int, redis: RedisClient?) throws {
        self.name = name
        self.rate = max(1, rate)
        self.period = period > .zero ? period : .seconds(1)
        self.burst = max(1, burst)
        self.redis = redis
        // A bucket idle for burst / rate seconds is full again, so dropping it then loses nothing;
        // one in constant use is replaced (with a full burst) once a day at most.
        var configuration = CacheConfiguration<String, any RateLimiting>(maximumCapacity: 100_000, timeToLive: .seconds(86_400))
        configuration.timeToIdle = max(.seconds(1), self.period * (Double(self.burst) / Double(self.rate)))
        buckets = try Cache(configuration: configuration, name: "\(name)-request-limits", metricsFactory: nil)
        refusedUsers = Counter(label: "http_requests_rate_limited_total", dimensions: [("scope", "user")])
        refusedAddresses = Counter(label: "http_requests_rate_limited_total", dimensions: [("scope", "address")])
    }

    /// The rate and burst the environment sets: `HTTP_RATE_LIMIT_PER_SECOND` (default 50) and
    /// `HTTP_RATE_LIMIT_BURST` (default 100), each 1 to 10,000,000.
    ///
    /// #### Errors
    /// `ExampleConfigurationError` naming the variable whose value does not parse or is out of range.
    public static func settings(in environment: [String: String]) throws(ExampleConfigurationError) -> (rate: Int, burst: Int) {
        (
            rate: try ExampleConfigurationError.integer("HTTP_RATE_LIMIT_PER_SECOND", in: environment, default: 50, range: 1...10_000_000),
            burst: try ExampleConfigurationError.integer("HTTP_RATE_LIMIT_BURST", in: environment, default: 100, range: 1...10_000_000)
        )
    }

    /// Where the buckets are kept, for the start-up log.
    public var placement: String {
        redis == nil ? "in-process" : "fleet-wide, in Redis"
    }

    /// Takes one request from `caller`'s bucket: `nil` when it may go now, else how long until it
    /// may. `isUser` says whether the caller is a user (else a client address), for the counter.
    /// A bucket whose Redis call fails lets the request through.
    public func wait(for caller: String, isUser: Bool) async -> Duration? {
        let bucket = bucket(for: caller)
        guard let wait = (try? await bucket.tryAcquire(cost: 1)) ?? nil else { return nil }
        (isUser ? refusedUsers : refusedAddresses).increment()
        return wait
    }

    private func bucket(for caller: String) -> any RateLimiting {
        if let bucket = buckets.value(for: caller) { return bucket }
        return making.withLock { _ in
            if let bucket = buckets.value(for: caller) { return bucket }
            let bucket = makeBucket(for: caller)
            buckets.insert(bucket, for: caller)
            return bucket
        }
    }

    private func makeBucket(for caller: String) -> any RateLimiting {
        let bucket: any RateLimiting
        if let redis,
            let shared = try? RedisTokenBucket(
                name: "\(name):caller:\(caller)", rate: rate, per: period, burst: burst, client: redis,
                failurePolicy: .localFallback(share: 1), metricsFactory: nil)
        {
            bucket = shared
        } else {
            bucket = TokenBucket(rate: rate, per: period, burst: burst)
        }
        return bucket
    }
}
