public import KeelCore
public import Logging
public import CoreMetrics

/// How a ``ConnectionPool`` sizes itself, times out, validates and recycles its connections.
///
/// Every setting has a documented default; ``init(environment:prefix:logger:)`` reads them from
/// `DB_…` variables. The settings of the pools Keel users come from map one to one:
///
/// | Keel | sqlx | HikariCP | database/sql | SQLAlchemy |
/// |---|---|---|---|---|
/// | `maxConnections` | `max_connections` | `maximumPoolSize` | `SetMaxOpenConns` | `pool_size` |
/// | `minConnections` | `min_connections` | `minimumIdle` | `SetMaxIdleConns` (upper bound) | — |
/// | `maxOverflow` | — | — | — | `max_overflow` |
/// | `overflowIdleTimeout` | — | — | — | — (`nil`: as `QueuePool`) |
/// | `connectTimeout` | `connect_timeout` | `connectionTimeout` | (context) | `connect_args` |
/// | `acquireTimeout` | `acquire_timeout` | `connectionTimeout` | (context) | `pool_timeout` |
/// | `idleTimeout` | `idle_timeout` | `idleTimeout` | `SetConnMaxIdleTime` | — |
/// | `maxLifetime` | `max_lifetime` | `maxLifetime` | `SetConnMaxLifetime` | `pool_recycle` |
/// | `validation` | `test_before_acquire` | `aliveBypassWindowMs` | — | `pool_pre_ping` |
///
/// ```swift
/// var configuration = PoolConfiguration()
/// configuration.maxConnections = 20
/// configuration.maxOverflow = 80                  // SQLAlchemy pool_size=20, max_overflow=80
/// configuration.maxLifetime = .seconds(3600)      // pool_recycle=3600
/// configuration.validation = .always              // pool_pre_ping=True
/// ```
public struct PoolConfiguration: Sendable {
    /// Connections kept open even when idle, opened when the pool starts and reopened after closes.
    /// Default 0.
    public var minConnections = 0
    /// The most connections open at once, overflow aside. Default 10.
    public var maxConnections = 10
    /// Extra connections opened when all `maxConnections` are in use (SQLAlchemy's `max_overflow`);
    /// ``overflowIdleTimeout`` says when the pool shrinks back. Default 0.
    public var maxOverflow = 0
    /// How long a connection beyond `maxConnections` may stay idle before it is closed (the
    /// maintenance sweep closes it within ``maintenanceInterval`` after that). `nil` closes a
    /// connection as soon as it is returned with no one waiting while `maxConnections` are idle,
    /// as SQLAlchemy's `QueuePool` does; under bursty load that opens and closes connections
    /// continually (a PostgreSQL connect costs milliseconds of CPU on each side). Default 1 s.
    public var overflowIdleTimeout: Duration? = .seconds(1)
    /// How long opening one connection may take. Default 30 s.
    public var connectTimeout: Duration = .seconds(30)
    /// How long a lease may wait for a connection before ``PoolError/Code/acquireTimeout``. Default 30 s.
    public var acquireTimeout: Duration = .seconds(30)
    /// How long a connection beyond `minConnections` may stay idle before it is closed; `nil` keeps
    /// idle connections. Default 10 minutes.
    public var idleTimeout: Duration? = .seconds(600)
    /// How old a connection may get before it is closed and replaced (at its next return if it is
    /// leased then); `nil` keeps connections forever. Default 30 minutes.
    public var maxLifetime: Duration? = .seconds(1800)
    /// Up to this fraction of `maxLifetime` is taken off each connection's lifetime at random, so
    /// connections opened together do not all recycle together (HikariCP uses 2.5 %). Default 0.025.
    public var maxLifetimeJitter = 0.025
    /// Which idle connection a lease gets when several are idle. Default
    /// ``ConnectionReuseOrder/lastReturnedFirst``.
    public var reuseOrder: ConnectionReuseOrder = .lastReturnedFirst
    /// When idle connections are validated before a lease. Default: when idle for more than 500 ms
    /// (HikariCP's bypass window).
    public var validation: ValidationPolicy = .whenIdleFor(.milliseconds(500))
    /// A lease held longer than this is logged once, at `.info` level, with where it was taken;
    /// `nil` turns leak detection off. Default `nil`.
    public var leakDetectionThreshold: Duration?
    /// The most connection attempts in flight at once, so a database that comes back is not hit by
    /// a thundering herd. Default 2.
    public var maxConcurrentConnectionAttempts = 2
    /// While nothing is open and connection attempts are refused (a database restarting), whether a
    /// lease waits for the next attempt when it is due before the lease's deadline, rather than
    /// failing at once with ``PoolError/Code/connectionUnavailable``. Default `true`: a database
    /// that comes back serves the waiting callers. `RedisClient` turns it off, since the callers
    /// of a cache or a limiter fall back at once instead of waiting. After an attempt that timed
    /// out, leases fail at once either way.
    public var waitsForReconnection = true
    /// The wait before retrying after the first failed connection attempt; it doubles with each
    /// further failure, with jitter, up to `maxConnectRetryDelay`. Default 100 ms.
    public var connectRetryDelay: Duration = .milliseconds(100)
    /// The longest wait between connection attempts while they fail, which bounds how long after
    /// the database comes back the pool notices. Default 500 ms (a refused attempt costs the
    /// database next to nothing; the concurrent-attempt limit keeps it to a few).
    public var maxConnectRetryDelay: Duration = .milliseconds(500)
    /// On shutdown, how long leases may take to come back before their connections are closed
    /// anyway. Default 30 s.
    public var shutdownGracePeriod: Duration = .seconds(30)
    /// The longest the pool's maintenance task sleeps between sweeps (idle and lifetime closes,
    /// refills, leak checks, metrics). Deadlines (acquire timeouts, retries) wake it sooner. Default 1 s.
    public var maintenanceInterval: Duration = .seconds(1)
    /// The logger: pool events and leaks at `.info`, per-connection events at `.debug`. The
    /// initialisers default to a logger that drops everything: pass the application's own.
    public var logger: Logger
    /// Where metrics go: gauges, counters and timers named `keel_pool_…` (see ``ConnectionPool``),
    /// and a SQL backend's `keel_sql_statement_duration`; `nil` records none. Default
    /// `MetricsSystem.factory` as it was when the configuration was made (bootstrap swift-metrics
    /// first), so metrics flow wherever the application sends them.
    public var metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    /// The pool's name: the `pool` dimension of its metrics and the `pool` metadata of its logs.
    /// Default `"default"`.
    public var name = "default"
    /// Seeds the pool's random numbers (lifetime and back-off jitter); `nil` picks one at random.
    /// Set it in tests for repeatable runs. Default `nil`.
    public var randomSeed: UInt64?

    /// The defaults, logging to `logger`.
    public init(logger: Logger = .silent) {
        self.logger = logger
    }

    /// Checks the settings against each other.
    ///
    /// #### Errors
    /// ``PoolConfigurationError`` naming the first setting that is out of range (zero
    /// `maxConnections`, `minConnections` above `maxConnections`, a negative or zero timeout).
    public func validate() throws(PoolConfigurationError) {
        func fail(_ setting: String, _ value: some CustomStringConvertible, _ rule: String) -> PoolConfigurationError {
            PoolConfigurationError(setting: setting, value: value.description, message: "\(setting) is \(value) but \(rule)")
        }
        if maxConnections < 1 { throw fail("maxConnections", maxConnections, "must be at least 1") }
        if minConnections < 0 { throw fail("minConnections", minConnections, "must not be negative") }
        if minConnections > maxConnections {
            throw fail("minConnections", minConnections, "must not exceed maxConnections (\(maxConnections))")
        }
        if maxOverflow < 0 { throw fail("maxOverflow", maxOverflow, "must not be negative") }
        if connectTimeout <= .zero { throw fail("connectTimeout", connectTimeout, "must be positive") }
        if acquireTimeout <= .zero { throw fail("acquireTimeout", acquireTimeout, "must be positive") }
        if let idleTimeout, idleTimeout <= .zero { throw fail("idleTimeout", idleTimeout, "must be positive or nil") }
        if let overflowIdleTimeout, overflowIdleTimeout <= .zero {
            throw fail("overflowIdleTimeout", overflowIdleTimeout, "must be positive or nil")
        }
        if let maxLifetime, maxLifetime <= .zero { throw fail("maxLifetime", maxLifetime, "must be positive or nil") }
        if !(0...0.5).contains(maxLifetimeJitter) { throw fail("maxLifetimeJitter", maxLifetimeJitter, "must be within 0...0.5") }
        if case .whenIdleFor(let threshold) = validation, threshold < .zero {
            throw fail("validation", validation, "needs a threshold of zero or more")
        }
        if let leakDetectionThreshold, leakDetectionThreshold <= .zero {
            throw fail("leakDetectionThreshold", leakDetectionThreshold, "must be positive or nil")
        }
        if maxConcurrentConnectionAttempts < 1 {
            throw fail("maxConcurrentConnectionAttempts", maxConcurrentConnectionAttempts, "must be at least 1")
        }
        if connectRetryDelay <= .zero { throw fail("connectRetryDelay", connectRetryDelay, "must be positive") }
        if maxConnectRetryDelay < connectRetryDelay {
            throw fail("maxConnectRetryDelay", maxConnectRetryDelay, "must be at least connectRetryDelay (\(connectRetryDelay))")
        }
        if shutdownGracePeriod < .zero { throw fail("shutdownGracePeriod", shutdownGracePeriod, "must not be negative") }
        if maintenanceInterval <= .zero { throw fail("maintenanceInterval", maintenanceInterval, "must be positive") }
    }
}
