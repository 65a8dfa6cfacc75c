import CSQLite3
import Synchronization

/// Stops the statements of one connection for a cancelled task, reliably.
///
/// `sqlite3_interrupt` alone can be lost: SQLite clears it when a statement starts on a
/// connection with no other statement running, so an interrupt that lands between two statements
/// of a `write { }` closure would let the second run to its end. The flag here stays set until the
/// connection starts its next work, and a progress handler checks it every 1,000 virtual machine
/// instructions, so every statement of the cancelled work fails with `SQLITE_INTERRUPT`.
final class SQLiteInterrupter: @unchecked Sendable {
    // @unchecked Sendable: `handle` is only passed to `sqlite3_interrupt`, which SQLite allows from
    // any thread; the flag is atomic.
    /// The connection's `sqlite3` handle.
    let handle: OpaquePointer
    private let requested = Atomic<Bool>(false)

    init(handle: OpaquePointer) {
        self.handle = handle
    }

    /// Installs the progress handler; the interrupter must outlive the connection's use.
    func install() {
        sqlite3_progress_handler(
            handle, 1_000,
            { context in
                Unmanaged<SQLiteInterrupter>.fromOpaque(context!).takeUnretainedValue().isRequested ? 1 : 0
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Whether the running work's task was cancelled.
    var isRequested: Bool { requested.load(ordering: .relaxed) }

    /// Stops the running statement and every later one until ``reset()``.
    func interrupt() {
        requested.store(true, ordering: .relaxed)
        sqlite3_interrupt(handle)
    }

    /// Lets statements run again: when the connection starts new work, and before a rollback.
    func reset() {
        requested.store(false, ordering: .relaxed)
    }
}
