import ExampleSupport
public import Hummingbird

/// saas-api's request context: Hummingbird's core context; bodies up to 10 MiB (CSV uploads).
public struct SaasContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage

    /// A context for a new request.
    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// 10 MiB, for CSV uploads; JSON bodies are small.
    public var maxUploadSize: Int { ExampleServer.maximumBodySize }
}
