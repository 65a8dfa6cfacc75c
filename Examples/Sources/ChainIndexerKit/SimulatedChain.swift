import ExampleSupport

/// A blockchain's RPC, simulated in-process: `eventCount` events referencing `transactionCount`
/// transactions. Fetching the events is one call; each transaction is a call of its own, with the
/// RPC's latency, error rate and optional outage.
public struct SimulatedChain: Sendable {
    /// How many events the indexed range holds.
    public let eventCount: Int
    /// How many distinct transactions they reference.
    public let transactionCount: Int
    /// The RPC for transactions.
    public let rpc: SimulatedService
    /// The RPC call that lists the events.
    public let eventsCall: SimulatedService

    /// A chain with these sizes behind an RPC with this behaviour.
    public init(
        eventCount: Int, transactionCount: Int, rpcLatency: Duration, eventsLatency: Duration, errorRate: Double,
        outage: (start: Duration, length: Duration)? = nil
    ) {
        self.eventCount = eventCount
        self.transactionCount = transactionCount
        rpc = SimulatedService(name: "simulated RPC", latency: rpcLatency...rpcLatency, failureRate: errorRate, outage: outage)
        eventsCall = SimulatedService(name: "simulated RPC (events)", latency: eventsLatency...eventsLatency)
    }

    /// The events of the range, in one call.
    public func fetchEvents() async throws -> [ChainEvent] {
        try await eventsCall.call {
            (0..<eventCount).map { index in
                let transaction = index % transactionCount
                return ChainEvent(
                    id: Int64(index), transactionHash: Self.hash(transaction), ledger: Int64(50_000_000 + transaction / 4),
                    kind: ["payment", "trade", "contract_call"][index % 3])
            }
        }
    }

    /// One transaction, in one RPC call.
    public func fetchTransaction(_ hash: String) async throws -> ChainTransaction {
        try await rpc.call { Self.transaction(hash) }
    }

    /// The transaction a hash names (deterministic, so runs can be compared).
    public static func transaction(_ hash: String) -> ChainTransaction {
        let number = Int64(hash.dropFirst(2), radix: 16) ?? 0
        let operations = (0..<(1 + number % 3)).map { position in
            ChainOperation(position: position, kind: ["payment", "path_payment", "invoke_contract"][Int((number + position) % 3)],
                           amount: (number + 1) * 1_000 + position)
        }
        return ChainTransaction(
            hash: hash, ledger: 50_000_000 + number / 4, source: "G" + String(number * 7919, radix: 36).uppercased(),
            fee: 100 + number % 50, operations: operations)
    }

    /// `0x` and 16 hex digits.
    public static func hash(_ number: Int) -> String {
        let digits = String(number, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}
