import Foundation

/// Runs work that may block (connecting, sending a cancel request) on a thread of its own,
/// never on Swift's cooperative pool.
enum BlockingThread {
    /// Runs `work` on a new thread and returns its result.
    static func run<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withUnsafeContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.name = "keel-postgres-blocking"
            thread.start()
        }
    }

    /// Starts `work` on a new thread and returns at once.
    static func start(_ work: @escaping @Sendable () -> Void) {
        let thread = Thread { work() }
        thread.name = "keel-postgres-blocking"
        thread.start()
    }
}
