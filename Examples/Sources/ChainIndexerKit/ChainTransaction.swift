/// A transaction as the RPC returns it, with its operations.
public struct ChainTransaction: Sendable, Hashable {
    /// Its hash.
    public var hash: String
    /// The ledger it was closed in.
    public var ledger: Int64
    /// The account that sent it.
    public var source: String
    /// The fee, in the chain's smallest unit.
    public var fee: Int64
    /// Its operations, in order.
    public var operations: [ChainOperation]

    /// A transaction.
    public init(hash: String, ledger: Int64, source: String, fee: Int64, operations: [ChainOperation]) {
        self.hash = hash
        self.ledger = ledger
        self.source = source
        self.fee = fee
        self.operations = operations
    }
}
