import ExampleSupport

/// What one indexing run did and how long each phase took.
public struct IndexReport: Sendable {
    /// `fetch events`, `fetch transactions`, `upsert events`, `upsert transactions`.
    public var timings = PhaseTimings()
    /// Events stored.
    public var events = 0
    /// Distinct transactions fetched and stored.
    public var transactions = 0
    /// Operations stored.
    public var operations = 0
    /// RPC calls made for transactions (retries included).
    public var rpcCalls = 0
    /// RPC calls that failed.
    public var rpcFailures = 0
    /// Calls the open circuit breaker refused without reaching the RPC.
    public var rejectedByBreaker = 0
    /// SQL statements sent to write.
    public var writeStatements = 0

    /// An empty report.
    public init() {}
}
