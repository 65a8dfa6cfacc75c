import HTTPTypes
public import NIOCore
public import NIOHTTPTypes

/// Answers `Expect: 100-continue` with `100 Continue` when the body the request announces is
/// within `maximumBodySize`, so a client that waits for it sends the body at once; a body announced
/// over it gets no `100 Continue`, and the route's 413 comes before the client sends it.
public final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    /// The request parts, passed on unchanged.
    public typealias InboundIn = HTTPRequestPart
    /// The request parts, passed on unchanged.
    public typealias InboundOut = HTTPRequestPart
    /// The interim response.
    public typealias OutboundOut = HTTPResponsePart

    /// The largest body answered with `100 Continue`.
    let maximumBodySize: Int

    /// A handler that lets bodies up to `maximumBodySize` bytes through at once.
    public init(maximumBodySize: Int) {
        self.maximumBodySize = maximumBodySize
    }

    /// Sends `100 Continue` for an acceptable request that expects it, and passes every part on.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let request) = unwrapInboundIn(data), request.headerFields[.expect]?.lowercased() == "100-continue" {
            let announced = request.headerFields[.contentLength].flatMap { Int($0) }
            if announced.map({ $0 <= maximumBodySize }) ?? true {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
            }
        }
        context.fireChannelRead(data)
    }
}
