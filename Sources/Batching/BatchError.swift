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
    /// What is wrong.
    public enum Code: String, Sendable, Hashable {
        /// The column list is empty.
        case emptyColumns
        /// A column is named twice.
        case duplicateColumn
        /// A table or column name is empty or holds a NUL byte (or is too long for the dialect).
        case invalidIdentifier
        /// A conflict-target column, or a column to update, is not among the upsert's columns.
        case columnNotInColumns
        /// The conflict target is empty.
        case emptyConflictTarget
        /// A row does not have one value per column.
        case wrongValueCount
        /// A conflict-key value is NULL: such a row never conflicts, so it would be inserted again
        /// on every run. Set ``Upsert/allowsNullKeys`` to accept it.
        case nullKey
        /// The dialect cannot express the request (a named constraint on SQLite, `RETURNING` on
        /// SQLite before 3.35, one row's binds over the bind limit).
        case unsupported
        /// A setting is out of range (a chunk size below 1).
        case invalidSetting
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
