/// One Redis command: its name and arguments, each sent as a binary-safe bulk string.
///
/// ```swift
/// let set = RedisCommand("SET", "greeting", "hello", "PX", "60000")
/// let get = RedisCommand("GET", "greeting")
/// ```
///
/// A command is encoded once, when it is made, into the RESP bytes that go on the wire (an array
/// of bulk strings: `*<count>\r\n`, then `$<length>\r\n<bytes>\r\n` for each), so sending it
/// copies nothing more. A command's ``description`` shows its name and the number of its
/// arguments, never their values (they may be secrets, such as `AUTH`'s password, or a user's data).
public struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    /// The command as sent: RESP's array of bulk strings.
    public let encoded: [UInt8]
    /// The command's name as given.
    private let givenName: String
    /// How many arguments follow the name.
    public let argumentCount: Int

    /// A command of `name` with text arguments (sent as their UTF-8 bytes).
    public init(_ name: String, _ arguments: String...) {
        self.init(name, arguments)
    }

    /// A command of `name` with text arguments (sent as their UTF-8 bytes).
    public init(_ name: String, _ arguments: [String]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(arguments.reduce(name.utf8.count + 32) { $0 + $1.utf8.count + 16 })
        Self.appendCount(arguments.count + 1, marker: UInt8(ascii: "*"), to: &bytes)
        Self.appendBulk(name.utf8, to: &bytes)
        for argument in arguments { Self.appendBulk(argument.utf8, to: &bytes) }
        encoded = bytes
        givenName = name
        argumentCount = arguments.count
    }

    /// A command whose name and arguments are given as bytes, the name first.
    public init(arguments: [[UInt8]]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(arguments.reduce(16) { $0 + $1.count + 16 })
        Self.appendCount(arguments.count, marker: UInt8(ascii: "*"), to: &bytes)
        for argument in arguments { Self.appendBulk(argument, to: &bytes) }
        encoded = bytes
        givenName = String(decoding: arguments.first ?? [], as: UTF8.self)
        argumentCount = max(arguments.count - 1, 0)
    }

    /// The command's name in upper case, such as `GET`.
    public var name: String { givenName.uppercased() }

    /// The name and how many arguments follow: `SET (3 arguments)`.
    public var description: String {
        "\(name) (\(argumentCount) argument\(argumentCount == 1 ? "" : "s"))"
    }

    private static func appendBulk(_ argument: some Collection<UInt8>, to bytes: inout [UInt8]) {
        appendCount(argument.count, marker: UInt8(ascii: "$"), to: &bytes)
        bytes.append(contentsOf: argument)
        bytes.append(UInt8(ascii: "\r"))
        bytes.append(UInt8(ascii: "\n"))
    }

    /// `<marker><count>\r\n`, the count in decimal.
    private static func appendCount(_ count: Int, marker: UInt8, to bytes: inout [UInt8]) {
        bytes.append(marker)
        var divisor = 1
        while divisor <= count / 10 { divisor *= 10 }
        var rest = count
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
        bytes.append(UInt8(ascii: "\r"))
        bytes.append(UInt8(ascii: "\n"))
    }
}
