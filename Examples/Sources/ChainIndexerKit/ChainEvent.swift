/// An event the chain emitted, referencing the transaction that caused it.
public struct ChainEvent: Sendable, Hashable {
    /// The event's number.
    public var id: Int64
    /// The hash of its transaction.
    public var transactionHash: String
    /// The ledger it was closed in.
    public var ledger: Int64
    /// `payment`, `trade`, `contract_call`...
    public var kind: String

    /// An event.
    public init(id: Int64, transactionHash: String, ledger: Int64, kind: String) {
        self.id = id
        self.transactionHash = transactionHash
        self.ledger = ledger
        self.kind = kind
    }
}
