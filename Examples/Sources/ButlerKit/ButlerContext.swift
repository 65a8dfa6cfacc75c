public import Hummingbird
public import HummingbirdAuth
public import NIOCore

/// The request context of crypto-butler: Hummingbird's core context, the caller the bearer token
/// identified, and the client's address (for per-address limits). Bodies are limited to 64 KiB
/// (larger ones get 413).
public struct ButlerContext: AuthRequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The authenticated user, set by ``ButlerAuthenticator``.
    public var identity: ButlerUser?
    /// The client's address; `nil` in the router test client.
    public let remoteAddress: SocketAddress?

    /// A context for a new request.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// 64 KiB: a portfolio is small.
    public var maxUploadSize: Int { 64 * 1024 }
}
