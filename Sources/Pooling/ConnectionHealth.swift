/// What a connection says of itself when it comes back to the pool.
public enum ConnectionHealth: Sendable, Hashable {
    /// Reusable.
    case healthy
    /// Unusable (a protocol error, a failed reset): the pool closes it and opens another if needed.
    case broken
    /// The server went away (connection reset, server restart): the pool closes it and validates
    /// every idle connection opened before it before its next use, since they probably lost their
    /// server too.
    case serverGone
}
