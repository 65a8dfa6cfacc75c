/// Where in the source a lease was taken, logged when the lease is held too long.
public struct LeaseLocation: Sendable, CustomStringConvertible {
    /// The file (`#fileID`).
    public let file: StaticString
    /// The line.
    public let line: UInt

    /// Creates a location.
    public init(file: StaticString, line: UInt) {
        self.file = file
        self.line = line
    }

    /// `Module/File.swift:42`.
    public var description: String { "\(file):\(line)" }
}
