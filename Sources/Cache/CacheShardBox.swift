import KeelLocking

/// A shard and its lock.
final class CacheShardBox<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    let shard: Locked<CacheShard<Key, Value>>

    init(_ shard: CacheShard<Key, Value>) {
        self.shard = Locked(shard)
    }
}
