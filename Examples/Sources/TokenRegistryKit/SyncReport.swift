import ExampleSupport

/// What one sync did and how long each phase took.
public struct SyncReport: Sendable {
    /// The phases: `API`, `DB load`, `process`, `batch write` (or `row writes`), `cache update`.
    public var timings = PhaseTimings()
    /// Contracts the exchange listed.
    public var listed = 0
    /// Symbols seen for the first time, in listing order.
    public var newListings: [String] = []
    /// Symbols active before and no longer listed, now marked delisted.
    public var delisted: [String] = []
    /// Known symbols listed again (their `last_seen` moved).
    public var updated = 0
    /// History events written.
    public var historyEvents = 0
    /// SQL statements sent.
    public var statements = 0
    /// Write attempts repeated because the database was locked.
    public var lockedRetries = 0

    /// An empty report.
    public init() {}
}
