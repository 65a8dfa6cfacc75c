import Foundation

/// Runs work that blocks (connecting, waiting for a process, sleeping between retries) on a thread
/// of its own, never on one of Swift's cooperative threads: on 2 cores, two blocked cooperative
/// threads stall every task.
///
/// ```swift
/// let address = await BlockingThread.run(name: "resolver") { resolve(host) }
/// ```
public enum BlockingThread {
    /// Runs `work` on a new thread named `name` and returns its result.
    public static func run<Value: Sendable>(name: String, _ work: @escaping @Sendable () -> Value) async -> Value {
        await withUnsafeContinuation { continuation in
            start(name: name) { continuation.resume(returning: work()) }
        }
    }

    /// Starts `work` on a new thread named `name` and returns at once.
    public static func start(name: String, _ work: @escaping @Sendable () -> Void) {
        let thread = Thread { work() }
        thread.name = name
        thread.start()
    }
}
