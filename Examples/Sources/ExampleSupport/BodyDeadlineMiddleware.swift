public import Hummingbird

/// Refuses with 408 (and closes the connection) a request whose body is still arriving `timeout`
/// after the request began: a body trickled just fast enough to dodge the server's idle timeout
/// is cut off here. Requests without a body, or that do not read it, are not affected.
public struct BodyDeadlineMiddleware<Context: RequestContext>: RouterMiddleware {
    /// How long a body may take to arrive in all.
    let timeout: Duration

    /// A middleware that gives each body `timeout` (``ExampleServer/bodyTimeout(in:)``).
    public init(timeout: Duration) {
        self.timeout = timeout
    }

    /// Passes the request on with its body checked against the deadline at each part.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        request.body = RequestBody(asyncSequence: Parts(base: request.body, deadline: .now.advanced(by: timeout), timeout: timeout))
        return try await next(request, context)
    }

    /// The body's parts, each taken only before the deadline.
    struct Parts: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let base: RequestBody
        let deadline: ContinuousClock.Instant
        let timeout: Duration

        struct AsyncIterator: AsyncIteratorProtocol {
            var base: RequestBody.AsyncIterator
            let deadline: ContinuousClock.Instant
            let timeout: Duration

            mutating func next() async throws -> ByteBuffer? {
                let part = try await base.next()
                guard part == nil || ContinuousClock.now < deadline else {
                    throw HTTPError(.requestTimeout, headers: [.connection: "close"], message: "the body did not arrive within \(timeout)")
                }
                return part
            }
        }

        func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: base.makeAsyncIterator(), deadline: deadline, timeout: timeout)
        }
    }
}
