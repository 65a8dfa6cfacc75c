import KeelCore

/// A Lua script run with `EVALSHA`: the server keeps scripts by their SHA-1, so once the digest
/// is known only it travels. The first call, and any call the server answers `NOSCRIPT` (it
/// restarted, or `SCRIPT FLUSH` ran), sends the source with `EVAL` and `SCRIPT LOAD` together.
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
