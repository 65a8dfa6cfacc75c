/// Which kind of server a connection wants, for a connection string that lists several: libpq's
/// `target_session_attrs`. libpq tries the hosts until one fits.
public enum PostgresTargetSession: String, Sendable, Hashable, CaseIterable {
    /// Any server that accepts the connection (libpq's default).
    case any
    /// A server that accepts writes: the primary.
    case readWrite = "read-write"
    /// A server that refuses writes (a standby, or `default_transaction_read_only`).
    case readOnly = "read-only"
    /// A primary (not in recovery).
    case primary
    /// A standby (in recovery).
    case standby
    /// A standby if any is reachable, else any server.
    case preferStandby = "prefer-standby"
}
