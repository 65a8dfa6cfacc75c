/// The rows ``PostgresDatabase/query(_:rowsAs:)`` decodes, collected by its visitor.
///
/// On a multiplexed connection the visitor runs on the task that serves the connection, and the
/// caller reads the rows once its statement has finished: the statement's state, released when it
/// finishes and read by the caller after it resumes (`PostgresMultiplexer.run`), orders the two.
/// A caller that was cancelled returns without reading them.
@usableFromInline
final class PostgresCollectedRows<Row>: @unchecked Sendable {
    // @unchecked Sendable: `rows` is written by one visitor at a time (one statement's rows are
    // decoded in order, on one task) and read only after the statement finished (see above).
    @usableFromInline var rows: [Row] = []

    @usableFromInline init() {}
}
