/// What one run of ``Migrator/migrate(_:)`` did.
public struct MigrationReport: Sendable, Hashable, CustomStringConvertible {
    /// The versions applied by this run, in order.
    public let applied: [Int]
    /// How many of the migrator's steps were applied before this run.
    public let alreadyApplied: Int
    /// Versions the database records above the migrator's newest step: applied by newer code,
    /// left alone.
    public let newerInDatabase: [Int]

    /// A report.
    public init(applied: [Int], alreadyApplied: Int, newerInDatabase: [Int]) {
        self.applied = applied
        self.alreadyApplied = alreadyApplied
        self.newerInDatabase = newerInDatabase
    }

    /// One line: what was applied and what was already there.
    public var description: String {
        var parts = ["applied \(applied.count) step\(applied.count == 1 ? "" : "s")"]
        if !applied.isEmpty { parts[0] += " (\(applied.map(String.init).joined(separator: ", ")))" }
        parts.append("\(alreadyApplied) already applied")
        if !newerInDatabase.isEmpty {
            parts.append("newer in the database: \(newerInDatabase.map(String.init).joined(separator: ", "))")
        }
        return parts.joined(separator: ", ")
    }
}
