/// Which idle connection a lease gets when several are idle (``PoolConfiguration/reuseOrder``).
public enum ConnectionReuseOrder: Sendable, Hashable {
    /// The one returned last: a few connections stay warm and the rest go idle long enough to be
    /// closed by the idle timeout. The default, as HikariCP and Go's `database/sql` do.
    case lastReturnedFirst
    /// The one idle the longest: leases go round the connections in turn. Right where a
    /// connection is a thread that finishes its own work after handing back the result (SQLite's
    /// readers): the next lease then goes to a thread that is ready, not to the one still
    /// finishing.
    case longestIdleFirst
}
