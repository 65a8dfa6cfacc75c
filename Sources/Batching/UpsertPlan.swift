/// A batch turned into statements by ``Upsert/plan(for:dialect:)``: nothing has been sent yet.
/// Its chunks carry their rows (as binds, or as ``UpsertChunk/stagedRows``), so
/// ``Upsert/run(plan:on:transaction:failure:)`` runs it on its own.
public struct UpsertPlan: Sendable, Hashable {
    /// The statements, in the order they run.
    public let chunks: [UpsertChunk]
    /// The number of input rows.
    public let rowsReceived: Int
    /// How many rows were dropped because a later row has the same conflict key.
    public let duplicatesRemoved: Int
    /// Whether each statement returns `keel_inserted` (PostgreSQL's `xmax = 0`) as its last column,
    /// so inserted and updated rows can be told apart.
    public let returnsInsertFlags: Bool
    /// Whether each statement returns one row of two counts, the rows inserted and the rows
    /// written (PostgreSQL without RETURNING columns).
    public let returnsCounts: Bool

    /// Creates a plan.
    public init(chunks: [UpsertChunk], rowsReceived: Int, duplicatesRemoved: Int, returnsInsertFlags: Bool, returnsCounts: Bool = false) {
        self.chunks = chunks
        self.rowsReceived = rowsReceived
        self.duplicatesRemoved = duplicatesRemoved
        self.returnsInsertFlags = returnsInsertFlags
        self.returnsCounts = returnsCounts
    }
}
