import ExampleSupport
public import Hummingbird
public import Logging

/// Logs every request slower than a threshold (`SLOW_REQUEST_MS`) at warning level with its method,
/// path, status and duration; in development it also logs every request at info level.
public struct SlowRequestMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Requests slower than this are logged.
    public let threshold: Duration
    /// Whether every request is logged (development mode).
    public let logsEveryRequest: Bool
    let logger: Logger

    /// A middleware logging requests over `threshold`.
    public init(threshold: Duration, logsEveryRequest: Bool, logger: Logger) {
        self.threshold = threshold
        self.logsEveryRequest = logsEveryRequest
        self.logger = logger
    }

    /// Times the request and logs it when slow.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = "error"
        defer {
            let elapsed = ContinuousClock.now - start
            if elapsed > threshold {
                logger.warning("slow request", metadata: [
                    "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(status)",
                    "duration": "\(elapsed.formattedMilliseconds)",
                ])
            } else if logsEveryRequest {
                logger.info("\(request.method) \(request.uri.path) \(status) \(elapsed.formattedMilliseconds)")
            }
        }
        do {
            let response = try await next(request, context)
            status = "\(response.status.code)"
            return response
        } catch let error as HTTPError {
            status = "\(error.status.code)"
            throw error
        }
    }
}
