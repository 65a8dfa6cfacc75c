import Synchronization

/// A shard and its lock.
final class CacheShardBox<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    let shard: Mutex<CacheShard<Key, Value>>

    init(_ shard: CacheShard<Key, Value>) {
        self.shard = Mutex(shard)
    }
}
