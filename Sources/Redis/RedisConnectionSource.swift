public import Pooling

/// Opens, checks and closes Redis connections for a `ConnectionPool`.
public struct RedisConnectionSource: ConnectionSource {
    /// How connections are opened.
    public let configuration: RedisConfiguration

    /// A source for `configuration`.
    public init(configuration: RedisConfiguration) {
        self.configuration = configuration
    }

    /// Opens a connection. The pool's `timeout` bounds it when shorter than
    /// ``RedisConfiguration/connectTimeout``.
    ///
    /// #### Errors
    /// ``RedisError`` when the server cannot be reached or refuses the login.
    public func makeConnection(timeout: Duration) async throws -> RedisConnection {
        var configuration = configuration
        configuration.connectTimeout = min(configuration.connectTimeout, timeout)
        return try await RedisConnection.connect(configuration: configuration)
    }

    /// One round trip (`PING`), within the command timeout.
    public func validate(_ connection: RedisConnection) async -> Bool {
        guard !connection.isBroken else { return false }
        return (try? await connection.send(RedisCommand("PING"))) == .simpleString("PONG")
    }

    /// `false` (discard it) when the connection is broken.
    public func reset(_ connection: RedisConnection) async -> Bool {
        !connection.isBroken
    }

    /// `.serverGone` once the connection was lost, `.broken` once a command timed out or was
    /// cancelled, `.healthy` otherwise.
    public func health(of connection: RedisConnection) -> ConnectionHealth {
        connection.health
    }

    /// Closes the connection.
    public func close(_ connection: RedisConnection) async {
        connection.close()
    }
}
