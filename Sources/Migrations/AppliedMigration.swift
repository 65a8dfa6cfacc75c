/// A step as the database records it, in the migrator's table.
public struct AppliedMigration: Sendable, Hashable {
    /// The step's version.
    public let version: Int
    /// The step's name when it ran.
    public let name: String
    /// The step's checksum when it ran (``Migration/checksum(for:)``).
    public let checksum: String

    /// A record of an applied step.
    public init(version: Int, name: String, checksum: String) {
        self.version = version
        self.name = name
        self.checksum = checksum
    }
}
