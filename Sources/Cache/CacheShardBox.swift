public import KeelLocking

/// A shard and its lock.
@usableFromInline
final class CacheShardBox<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    @usableFromInline let shard: Locked<CacheShard<Key, Value>>

    init(_ shard: CacheShard<Key, Value>) {
        self.shard = Locked(shard)
    }
}
