/// A batch that cannot be built: found before anything is sent to the database.
///
/// ```swift
/// do {
///     let plan = try upsert.plan(for: rows, dialect: database.dialect)
/// } catch let error as BatchError where error.code == .wrongValueCount {
///     print(error)   // row 7 has 2 values; the upsert has 3 columns (symbol, price, seen_at)
/// }
/// ```
public struct BatchError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let description: String

        /// The column list is empty.
        public static let emptyColumns = Code(description: "emptyColumns")
        /// A column is named twice.
        public static let duplicateColumn = Code(description: "duplicateColumn")
        /// A table or column name is empty or holds a NUL byte (or is too long for the dialect).
        public static let invalidIdentifier = Code(description: "invalidIdentifier")
        /// A conflict-target column, or a column to update, is not among the upsert's columns.
        public static let columnNotInColumns = Code(description: "columnNotInColumns")
        /// The conflict target is empty.
        public static let emptyConflictTarget = Code(description: "emptyConflictTarget")
        /// A row does not have one value per column.
        public static let wrongValueCount = Code(description: "wrongValueCount")
        /// A conflict-key value is NULL: such a row never conflicts, so it would be inserted again
        /// on every run. Set ``Upsert/allowsNullKeys`` to accept it.
        public static let nullKey = Code(description: "nullKey")
        /// The dialect cannot express the request (a named constraint on SQLite, `RETURNING` on
        /// SQLite before 3.35, one row's binds over the bind limit).
        public static let unsupported = Code(description: "unsupported")
        /// A setting is out of range (a chunk size below 1).
        public static let invalidSetting = Code(description: "invalidSetting")

        /// Matches a ``BatchError`` of this code: `catch BatchError.Code.nullKey { … }`.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? BatchError)?.code == code
        }
    }

    /// What is wrong.
    public let code: Code
    /// The explanation, naming the row or column; never a value.
    public let message: String

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
