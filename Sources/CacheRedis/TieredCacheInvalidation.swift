/// One invalidation as published on a cache's channel: the sending process, then what to drop.
/// On the wire: the sender's 16 hexadecimal digits, one letter (`k` key, `t` tag, `p` key
/// prefix), then the key, tag or prefix as UTF-8.
struct TieredCacheInvalidation: Sendable, Hashable {
    enum Target: Sendable, Hashable {
        case key(String)
        case tag(String)
        case keyPrefix(String)
    }

    let sender: String
    let target: Target

    static let senderLength = 16

    var payload: [UInt8] {
        let (letter, text): (String, String) =
            switch target {
            case .key(let key): ("k", key)
            case .tag(let tag): ("t", tag)
            case .keyPrefix(let prefix): ("p", prefix)
            }
        return Array((sender + letter + text).utf8)
    }

    /// The invalidation `payload` holds; `nil` for anything else.
    init?(payload: [UInt8]) {
        guard payload.count > Self.senderLength else { return nil }
        let sender = String(decoding: payload[..<Self.senderLength], as: UTF8.self)
        let text = String(decoding: payload[(Self.senderLength + 1)...], as: UTF8.self)
        switch payload[Self.senderLength] {
        case UInt8(ascii: "k"): target = .key(text)
        case UInt8(ascii: "t"): target = .tag(text)
        case UInt8(ascii: "p"): target = .keyPrefix(text)
        default: return nil
        }
        self.sender = sender
    }

    init(sender: String, target: Target) {
        self.sender = sender
        self.target = target
    }
}
