import SQLCore

/// Replaces bound values where the server quotes them in an error (`Key (token)=(s3cr3t)`,
/// `invalid input syntax for type integer: "abc"`) with `<redacted>`.
struct PostgresBindRedaction {
    private let texts: [String]

    init(binds: [SQLValue]) {
        texts = binds.compactMap { bind in
            switch bind {
            case .null, .bool: nil
            case .int64(let value): String(value)
            case .double(let value): PostgresBinds.text(of: value)
            case .text(let value), .json(let value): value.isEmpty ? nil : value
            case .blob: nil
            case .date(let value): SQLTimestamp.string(from: value)
            case .uuid(let value): value.uuidString.lowercased()
            }
        }
    }

    /// `text` with every quoted or parenthesised bound value redacted.
    func apply(to text: String?) -> String? {
        guard var text else { return nil }
        for value in texts {
            for (open, close) in [("\"", "\""), ("(", ")"), ("(", ","), (", ", ")"), (", ", ","), ("'", "'")] {
                text = text.replacingOccurrences(of: open + value + close, with: open + "<redacted>" + close)
            }
            // Long values are redacted wherever they appear.
            if value.count >= 8 { text = text.replacingOccurrences(of: value, with: "<redacted>") }
        }
        return text
    }
}
