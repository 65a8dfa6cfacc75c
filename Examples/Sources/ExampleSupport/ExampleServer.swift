public import HummingbirdCore

/// The HTTP server settings the example services share.
public enum ExampleServer {
    /// How long a connection may send nothing (no request, or no progress on a request's headers
    /// or body) before it is closed: slow-loris connections are not held open. `HTTP_IDLE_TIMEOUT_SECS`.
    public static let defaultIdleTimeout: Duration = .seconds(30)

    /// The largest request body the services accept (the CSV upload's limit): requests that
    /// announce more get no `100 Continue`.
    public static let maximumBodySize = 10 * 1024 * 1024

    /// An HTTP/1.1 server that closes a connection idle for `idleTimeout` (Hummingbird counts from
    /// the connection's start or its last response until a request's head has arrived, then from
    /// each part of its body, so headers or a body trickled slower than that are cut off too), and
    /// answers `Expect: 100-continue` (``ExpectContinueHandler``).
    public static func http1(idleTimeout: Duration) -> HTTPServerBuilder {
        let (seconds, attoseconds) = idleTimeout.components
        return .http1(configuration: .init(
            additionalChannelHandlers: [ExpectContinueHandler(maximumBodySize: maximumBodySize)],
            idleTimeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)))
    }

    /// How long a request's body may take to arrive in all (``BodyDeadlineMiddleware``):
    /// `HTTP_BODY_TIMEOUT_SECS`.
    public static let defaultBodyTimeout: Duration = .seconds(120)

    /// `HTTP_BODY_TIMEOUT_SECS` from `environment` (whole seconds, 1 to 3,600), or the default.
    ///
    /// #### Errors
    /// ``ExampleConfigurationError`` naming the variable when it does not parse.
    public static func bodyTimeout(in environment: [String: String]) throws(ExampleConfigurationError) -> Duration {
        .seconds(try ExampleConfigurationError.integer(
            "HTTP_BODY_TIMEOUT_SECS", in: environment, default: Int(defaultBodyTimeout.components.seconds), range: 1...3_600))
    }

    /// `HTTP_IDLE_TIMEOUT_SECS` from `environment` (whole seconds, 1 to 3,600), or the default.
    ///
    /// #### Errors
    /// ``ExampleConfigurationError`` naming the variable when it does not parse.
    public static func idleTimeout(in environment: [String: String]) throws(ExampleConfigurationError) -> Duration {
        .seconds(try ExampleConfigurationError.integer(
            "HTTP_IDLE_TIMEOUT_SECS", in: environment, default: Int(defaultIdleTimeout.components.seconds), range: 1...3_600))
    }
}
