import ExampleSupport
public import Hummingbird
public import NIOCore

/// saas-api's request context: Hummingbird's core context and the client's address (for
/// per-address limits); bodies up to 10 MiB (CSV uploads).
public struct SaasContext: RemoteAddressRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The client's address; `nil` in the router test client.
    public let remoteAddress: SocketAddress?

    /// A context for a new request.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// 10 MiB, for CSV uploads; JSON bodies are small.
    public var maxUploadSize: Int { ExampleServer.maximumBodySize }
}
