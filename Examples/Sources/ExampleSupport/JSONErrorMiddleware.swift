public import Hummingbird
import Pooling
import PostgresPool

/// Makes every error answer a JSON error (`{"error":{"message":"..."}}`): an `HTTPError` without
/// a message (such as Hummingbird's 413 for a body over the limit) gets its status's reason; a
/// database that cannot be reached (no pooled connection could be opened, or the connection was
/// lost) becomes a 503 with `Retry-After: 1`; any other error becomes a 500 whose message does not
/// leak internals.
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
        } catch let error where Self.isDatabaseUnreachable(error) {
            context.logger.warning("database unreachable: \(error)")
            throw HTTPError(.serviceUnavailable, headers: [.retryAfter: "1"], message: "the database is unreachable; try again shortly")
        } catch {
            context.logger.error("request failed: \(error)")
            throw HTTPError(.internalServerError, message: "internal error")
        }
    }

    /// Whether `error` says the database could not be reached, rather than that the request failed.
    static func isDatabaseUnreachable(_ error: any Error) -> Bool {
        if let error = error as? PoolError { return error.code == .connectionUnavailable }
        if let error = error as? PostgresError { return error.isConnectionFailure }
        return false
    }
}
