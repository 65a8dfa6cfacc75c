/// A column could not be read as the requested type.
///
/// The message names the column, the type asked for and the kind of value found, never
/// the value itself (it may be a secret):
///
/// ```
/// cannot decode column "price" as Double: found text
/// no column "pirce" in the row (columns: id, symbol, price)
/// ```
public struct SQLDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let description: String

        /// The row has no such column (by name) or index.
        public static let missingColumn = Code(description: "missingColumn")
        /// The column's value does not fit the requested type (a `NULL` read as a non-optional included).
        public static let typeMismatch = Code(description: "typeMismatch")

        /// Matches a ``SQLDecodingError`` of this code: `catch SQLDecodingError.Code.missingColumn { … }`.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? SQLDecodingError)?.code == code
        }
    }

    /// What went wrong.
    public let code: Code
    /// The column's name, or its index in brackets (`[3]`) when it was asked for by index.
    public let column: String
    /// The Swift type that was asked for, such as `Int` or `Optional<Date>`.
    public let expectedType: String
    /// The kind of value found (``SQLValue/kindName``); `nil` for a missing column.
    public let foundKind: String?
    /// The row's column names, to spot a typo.
    public let availableColumns: [String]

    /// Creates an error; backends and ``SQLRow`` use it.
    public init(code: Code, column: String, expectedType: String, foundKind: String?, availableColumns: [String]) {
        self.code = code
        self.column = column
        self.expectedType = expectedType
        self.foundKind = foundKind
        self.availableColumns = availableColumns
    }

    /// The error of a column a row does not have: `column` is its quoted name, or its index in
    /// brackets (`[3]`).
    public static func missing<T>(column: String, decodingAs type: T.Type, availableColumns: [String]) -> SQLDecodingError {
        SQLDecodingError(
            code: .missingColumn, column: column, expectedType: String(describing: T.self), foundKind: nil,
            availableColumns: availableColumns)
    }

    /// The error of the value `found` in `column` (its quoted name) that does not fit `type`.
    public static func mismatch<T>(
        column: String, decodingAs type: T.Type, found: SQLValue, availableColumns: [String]
    ) -> SQLDecodingError {
        SQLDecodingError(
            code: .typeMismatch, column: column, expectedType: String(describing: T.self), foundKind: found.kindName,
            availableColumns: availableColumns)
    }

    /// A sentence naming the column, the expected type and what was found.
    public var description: String {
        if code == .missingColumn {
            return "no column \(column) in the row, asked for as \(expectedType) (columns: \(availableColumns.joined(separator: ", ")))"
        }
        return "cannot decode column \(column) as \(expectedType): found \(foundKind ?? "nothing")"
    }
}
