import Tracing

extension SpanAttributes {
    /// The attribute `name` as text (a string, or a number's description), `nil` when unset.
    func text(_ name: String) -> String? {
        guard let attribute = self.get(name) else { return nil }
        switch attribute {
        case .string(let value): return value
        case .int64(let value): return String(value)
        case .int32(let value): return String(value)
        case .double(let value): return String(value)
        case .bool(let value): return String(value)
        default: return "\(attribute)"
        }
    }
}
