/// Why the migrator did not bring a database up to date. Nothing of the failed run is left
/// applied: the migrator runs in one transaction.
///
/// ```swift
/// do { try await migrator.migrate(database) }
/// catch let error as MigrationError where error.code == .changedAfterApplied {
///     // an applied step was edited: restore it and add a new step instead
/// }
/// ```
public struct MigrationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let description: String

        /// The migrator's steps are not usable: a version that is not positive or appears twice,
        /// or an empty name.
        public static let invalidSteps = Code(description: "invalidSteps")
        /// A step the database records as applied has another checksum now: its name or SQL was
        /// changed after it ran.
        public static let changedAfterApplied = Code(description: "changedAfterApplied")
        /// The database records a step that the migrator does not have, below its newest version
        /// (steps above it are taken to come from newer code and are left alone).
        public static let missingFromCode = Code(description: "missingFromCode")
        /// A step's statement failed; ``MigrationError/underlying`` is the database's error.
        public static let stepFailed = Code(description: "stepFailed")

        /// Matches a ``MigrationError`` of this code: `catch MigrationError.Code.changedAfterApplied { … }`.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? MigrationError)?.code == code
        }
    }

    /// The kind of problem.
    public let code: Code
    /// The step concerned, when there is one.
    public let version: Int?
    /// What is wrong and what to do; never contains a bind value.
    public let message: String
    /// The database's error, for ``Code/stepFailed``: its description, which the backends keep
    /// free of bind values and passwords.
    public let underlying: String?

    /// Creates an error.
    public init(code: Code, version: Int?, message: String, underlying: String? = nil) {
        self.code = code
        self.version = version
        self.message = message
        self.underlying = underlying
    }

    /// The code and the message, and the database's error for a failed step.
    public var description: String {
        let base = "MigrationError.\(code): \(message)"
        guard let underlying else { return base }
        return "\(base): \(underlying)"
    }
}
