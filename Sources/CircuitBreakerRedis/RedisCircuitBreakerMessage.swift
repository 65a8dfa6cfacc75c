import CircuitBreaker

/// A state change published on ``RedisCircuitBreakerStore/channel``: three lines, the sending
/// store, the state (`open <milliseconds left>` or `closed`) and the breaker's name (the rest of
/// the payload, so a name may hold any byte).
struct RedisCircuitBreakerMessage: Equatable {
    var sender: String
    var name: String
    var state: CircuitBreakerSharedState

    init(sender: String, name: String, state: CircuitBreakerSharedState) {
        self.sender = sender
        self.name = name
        self.state = state
    }

    /// The message in `payload`; `nil` for one that is not a breaker's (nothing is applied).
    init?(payload: [UInt8]) {
        let parts = payload.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[2].isEmpty else { return nil }
        let state = String(decoding: parts[1], as: UTF8.self)
        if state == "closed" {
            self.state = .closed
        } else if state.hasPrefix("open "), let milliseconds = Int64(state.dropFirst(5)), milliseconds > 0 {
            self.state = .open(remaining: .milliseconds(milliseconds))
        } else {
            return nil
        }
        sender = String(decoding: parts[0], as: UTF8.self)
        name = String(decoding: parts[2], as: UTF8.self)
    }

    /// The bytes published.
    var payload: [UInt8] {
        let state =
            switch self.state {
            case .open(let remaining): "open \(max(1, remaining.inNanoseconds / 1_000_000))"
            case .closed: "closed"
            }
        return Array("\(sender)\n\(state)\n\(name)".utf8)
    }
}
