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
    /// What went wrong.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable {
            case missingColumn
            case typeMismatch
        }

        let base: Base

        /// The row has no such column (by name) or index.
        public static let missingColumn = Reason(base: .missingColumn)
        /// The column's value does not fit the requested type (a `NULL` read as a non-optional included).
        public static let typeMismatch = Reason(base: .typeMismatch)

        /// `missingColumn` or `typeMismatch`.
        public var description: String {
            switch base {
            case .missingColumn: "missingColumn"
            case .typeMismatch: "typeMismatch"
            }
        }
    }

    /// What went wrong.
    public let reason: Reason
    /// The column's name, or its index in brackets (`[3]`) when it was asked for by index.
    public let column: String
    /// The Swift type that was asked for, such as `Int` or `Optional<Date>`.
    public let expectedType: String
    /// The kind of value found (``SQLValue/kindName``); `nil` for a missing column.
    public let foundKind: String?
    /// The row's column names, to spot a typo.
    public let availableColumns: [String]

    /// Creates an error; backends and ``SQLRow`` use it.
    public init(reason: Reason, column: String, expectedType: String, foundKind: String?, availableColumns: [String]) {
        self.reason = reason
        self.column = column
        self.expectedType = expectedType
        self.foundKind = foundKind
        self.availableColumns = availableColumns
    }

    /// A sentence naming the column, the expected type and what was found.
    public var description: String {
        switch reason.base {
        case .missingColumn:
            "no column \(column) in the row, asked for as \(expectedType) (columns: \(availableColumns.joined(separator: ", ")))"
        case .typeMismatch:
            "cannot decode column \(column) as \(expectedType): found \(foundKind ?? "nothing")"
        }
    }
}
