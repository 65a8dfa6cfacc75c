import Foundation

/// Runs blocking C calls (libpq, sqlite3) on a thread of their own, never on Swift's
/// cooperative pool, and resumes the caller with the result.
enum DedicatedThread {
    static func run<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Swift.Result { try work() })
            }
            thread.start()
        }
    }
}
