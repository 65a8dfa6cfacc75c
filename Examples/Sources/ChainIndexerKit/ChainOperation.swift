/// One operation of a transaction.
public struct ChainOperation: Sendable, Hashable {
    /// Its position in the transaction.
    public var position: Int64
    /// `payment`, `path_payment`, `invoke_contract`...
    public var kind: String
    /// The amount moved, in the chain's smallest unit.
    public var amount: Int64

    /// An operation.
    public init(position: Int64, kind: String, amount: Int64) {
        self.position = position
        self.kind = kind
        self.amount = amount
    }
}
