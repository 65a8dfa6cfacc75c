/// One Redis command: its name and arguments, each sent as a binary-safe bulk string.
///
/// ```swift
/// let set = RedisCommand("SET", "greeting", "hello", "PX", "60000")
/// let get = RedisCommand("GET", "greeting")
/// ```
///
/// A command's ``description`` shows its name and the number of its arguments, never their
/// values (they may be secrets, such as `AUTH`'s password, or a user's data).
public struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    /// The name first, then the arguments.
    public var arguments: [[UInt8]]

    /// A command of `name` with text arguments (sent as their UTF-8 bytes).
    public init(_ name: String, _ arguments: String...) {
        self.init(name, arguments)
    }

    /// A command of `name` with text arguments (sent as their UTF-8 bytes).
    public init(_ name: String, _ arguments: [String]) {
        var all: [[UInt8]] = [Array(name.utf8)]
        all.reserveCapacity(arguments.count + 1)
        for argument in arguments { all.append(Array(argument.utf8)) }
        self.arguments = all
    }

    /// A command whose name and arguments are given as bytes, the name first.
    public init(arguments: [[UInt8]]) {
        self.arguments = arguments
    }

    /// The command's name in upper case, such as `GET`.
    public var name: String {
        String(decoding: arguments.first ?? [], as: UTF8.self).uppercased()
    }

    /// The name and how many arguments follow: `SET (3 arguments)`.
    public var description: String {
        let count = max(arguments.count - 1, 0)
        return "\(name) (\(count) argument\(count == 1 ? "" : "s"))"
    }
}
