import Foundation

/// The checks every text the example services store goes through, so that an input one database
/// would refuse (PostgreSQL refuses NUL in text; SQLite keeps it) is refused on both, with a 400,
/// before it reaches either, and what is stored reads back as it was given.
public enum ExampleText {
    /// Why `value` (the field `name`) cannot be stored, or `nil`: empty when it must not be, longer
    /// than `maximum` characters, or holding a control character (NUL, line breaks, tabs, escapes).
    public static func problem(_ value: String, name: String, maximum: Int, mayBeEmpty: Bool = false) -> String? {
        if value.isEmpty && !mayBeEmpty { return "\(name) must not be empty" }
        if value.count > maximum { return "\(name) must have at most \(maximum) characters" }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "\(name) must not contain control characters"
        }
        return nil
    }

    /// `value` without leading and trailing white space, as it is stored.
    public static func trimmed(_ value: String) -> String {
        value.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
