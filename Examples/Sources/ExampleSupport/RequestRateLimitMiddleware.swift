public import Hummingbird

/// Answers 429 with `Retry-After` (whole seconds, rounded up) when the caller of a request has
/// used up its ``RequestRateLimits`` bucket. The caller is what `caller` returns for the request
/// (a user after authentication, or the client's address); requests without one pass.
///
/// ```swift
/// router.add(middleware: RequestRateLimitMiddleware(limits: limits) { _, context in
///     context.remoteAddress?.ipAddress.map { .address($0) }   // the address without its port
/// })
/// ```
public struct RequestRateLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Who made a request.
    public enum Caller: Sendable {
        /// An authenticated user.
        case user(String)
        /// A client address (an unauthenticated request).
        case address(String)
    }

    /// The buckets.
    public let limits: RequestRateLimits
    /// The caller of a request.
    public let caller: @Sendable (Request, Context) -> Caller?

    /// A middleware taking each request from `caller`'s bucket in `limits`.
    public init(limits: RequestRateLimits, caller: @escaping @Sendable (Request, Context) -> Caller?) {
        self.limits = limits
        self.caller = caller
    }

    /// Passes the request on, or answers 429.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let key: String
        let isUser: Bool
        switch caller(request, context) {
        case .user(let name): (key, isUser) = ("user:\(name)", true)
        case .address(let address): (key, isUser) = ("address:\(address)", false)
        case nil: return try await next(request, context)
        }
        if let wait = await limits.wait(for: key, isUser: isUser) {
            let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
            throw HTTPError(
                .tooManyRequests, headers: [.retryAfter: String(seconds)],
                message: "too many requests: at most \(limits.rate) per \(limits.period) (bursts of \(limits.burst)); retry in \(seconds) s")
        }
        return try await next(request, context)
    }
}
