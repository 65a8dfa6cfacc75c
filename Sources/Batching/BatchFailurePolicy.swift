/// What a batch does when a chunk fails.
public enum BatchFailurePolicy: Sendable, Hashable {
    /// Stop at the first failing chunk and throw ``BatchWriteError``, whose report says exactly which
    /// rows were committed.
    case stop
    /// Go on with the next chunks and collect each failure in ``UpsertReport/failures``.
    case `continue`
}
