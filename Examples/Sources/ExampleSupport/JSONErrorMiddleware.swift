public import Hummingbird

/// Makes every error answer a JSON error (`{"error":{"message":"..."}}`): an `HTTPError` without
/// a message (such as Hummingbird's 413 for a body over the limit) gets its status's reason, and
/// any other error becomes a 500 whose message does not leak internals.
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The middleware.
    public init() {}

    /// Passes the request on and rewrites errors without a JSON body.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            guard error.body == nil else { throw error }
            throw HTTPError(error.status, headers: error.headers, message: error.status.reasonPhrase)
        } catch let error as any HTTPResponseError {
            throw HTTPError(error.status, message: error.status.reasonPhrase)
        } catch {
            context.logger.error("request failed: \(error)")
            throw HTTPError(.internalServerError, message: "internal error")
        }
    }
}
