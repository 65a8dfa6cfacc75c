/// How a batch's chunks are grouped into transactions.
public enum BatchTransaction: Sendable, Hashable {
    /// Each chunk commits on its own (one statement, atomic by itself): a failure leaves the chunks
    /// before it committed.
    case perChunk
    /// The whole batch in one transaction: all or nothing (with ``BatchFailurePolicy/continue``,
    /// each chunk runs in a savepoint and a failing one is rolled back alone).
    case whole
}
