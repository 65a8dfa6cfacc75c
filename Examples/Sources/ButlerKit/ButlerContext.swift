public import Hummingbird

/// The request context of crypto-butler: Hummingbird's core context plus the caller the bearer
/// token identified. Bodies are limited to 64 KiB (larger ones get 413).
public struct ButlerContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The authenticated user, set by ``BearerTokenMiddleware``.
    public var user: String?

    /// A context for a new request.
    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// 64 KiB: a portfolio is small.
    public var maxUploadSize: Int { 64 * 1024 }
}
