/// When the pool validates an idle connection (``ConnectionSource/validate(_:)``) before leasing it.
public enum ValidationPolicy: Sendable, Hashable, CustomStringConvertible {
    /// Never: the cheapest, for sources whose connections do not go stale.
    case never
    /// Before every lease: SQLAlchemy's `pool_pre_ping=True`. Costs one round trip per lease.
    case always
    /// Only when the connection has been idle longer than this: HikariCP's approach, which skips
    /// the ping for a connection used moments ago.
    case whenIdleFor(Duration)

    /// `never`, `always` or `whenIdleFor(…)`.
    public var description: String {
        switch self {
        case .never: "never"
        case .always: "always"
        case .whenIdleFor(let duration): "whenIdleFor(\(duration))"
        }
    }
}
