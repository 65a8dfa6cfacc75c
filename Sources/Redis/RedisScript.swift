import KeelCore

/// A Lua script run with `EVALSHA`: the server keeps scripts by their SHA-1, so after the first
/// `SCRIPT LOAD` only the digest travels. When a server does not have it (it restarted, or
/// `SCRIPT FLUSH` ran), ``RedisClient/evaluate(_:keys:arguments:)`` loads it again and retries.
///
/// ```swift
/// let incrementBy = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
/// let total = try await redis.evaluate(incrementBy, keys: ["visits"], arguments: ["2"])
/// ```
public final class RedisScript: Sendable {
    /// The script's Lua source.
    public let source: String
    /// The digest the server returned from `SCRIPT LOAD`, once known.
    private let digest = Locked<String?>(nil)

    /// A script of `source`.
    public init(_ source: String) {
        self.source = source
    }

    /// The digest the server gave, `nil` before the first load.
    public var sha1: String? { digest.withLock { $0 } }

    func remember(_ sha1: String) {
        digest.withLock { $0 = sha1 }
    }
}
