/// A statement that cannot be sent: an invalid identifier, or more binds than the dialect allows.
///
/// Raised before anything reaches the database. Match on ``code``:
///
/// ```swift
/// do { try statement.render(for: .postgres) }
/// catch let error where error.code == .tooManyBinds { /* split the batch */ }
/// ```
public struct SQLStatementError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let description: String

        /// An identifier that is empty, contains NUL, or is too long for the dialect.
        public static let invalidIdentifier = Code(description: "invalidIdentifier")
        /// More bind parameters than the dialect allows in one statement.
        public static let tooManyBinds = Code(description: "tooManyBinds")

        /// Matches a ``SQLStatementError`` of this code: `catch SQLStatementError.Code.tooManyBinds { … }`.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? SQLStatementError)?.code == code
        }
    }

    /// The kind of problem.
    public let code: Code
    /// What is wrong and what to do; never contains a bind value.
    public let message: String

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
