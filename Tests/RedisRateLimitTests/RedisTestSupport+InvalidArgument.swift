import RedisRateLimit
import RedisTestSupport

extension RedisTestSupport {
    /// The message of the `invalidArgument` error `make` throws; `nil` when it throws nothing, or
    /// the description of any other error.
    static func invalidArgumentMessage(_ make: () throws -> Void) -> String? {
        do {
            try make()
            return nil
        } catch let error as RedisRateLimitError where error.code == .invalidArgument {
            return error.message
        } catch {
            return "\(error)"
        }
    }
}
