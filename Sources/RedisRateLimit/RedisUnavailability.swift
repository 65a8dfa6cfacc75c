import Pooling
import Redis

/// Which errors mean "Redis cannot be reached" (the failure policy decides then) rather than "Redis
/// refused this call" (the caller gets the error).
enum RedisUnavailability {
    /// Server error kinds that mean the server cannot serve anyone right now.
    static let unavailableKinds: Set<String> = ["LOADING", "BUSY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN"]

    /// Whether `error` means Redis is unreachable or cannot serve now.
    static func covers(_ error: any Error) -> Bool {
        if let error = error as? RedisError {
            switch error.code {
            case .connection, .connectionBeforeSend, .timeout: return true
            case .server: return error.kind.map(unavailableKinds.contains) ?? false
            default: return false
            }
        }
        if let error = error as? PoolError {
            return error.code == .connectionUnavailable || error.code == .acquireTimeout
        }
        return false
    }
}
