/// A ``TCPFaultProxy`` could not start.
public struct ProxyError: Error, CustomStringConvertible {
    /// What failed.
    public let message: String
    /// The message.
    public var description: String { message }
}
