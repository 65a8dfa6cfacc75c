import BotFleetKit
import Synchronization

/// What the running bots report to the progress printer and the final table.
final class FleetProgress: Sendable {
    /// Cycles finished.
    let cycles = Atomic<Int>(0)
    /// Cycles that failed.
    let failures = Atomic<Int>(0)
    /// Bots still running.
    let running = Atomic<Int>(0)
    /// The latest history page the process's first bot read.
    let lastPage = Mutex<TradePage?>(nil)
}
