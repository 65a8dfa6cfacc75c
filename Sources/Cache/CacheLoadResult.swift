/// How ``Cache/value(for:tag:orFetch:)`` (or a `TieredCache`'s) answered: the `keel.cache.result`
/// attribute of its span.
package enum CacheLoadResult: String, Sendable {
    /// A fresh value from the cache.
    case hit
    /// A value past its time to live, served while a refresh runs.
    case stale
    /// Fetched (by this call or a concurrent one it joined).
    case miss
    /// The last good value, served because the fetch failed within the stale-if-error window.
    case staleIfError = "stale_if_error"
    /// A fresh value from the level a fleet shares (a `TieredCache`'s Redis).
    case sharedHit = "shared_hit"
}
