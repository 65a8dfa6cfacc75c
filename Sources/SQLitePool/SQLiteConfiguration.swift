public import KeelCore
public import Logging
import Foundation

/// Where a SQLite database lives and how its connections are set up, with SQLite's
/// recommended server settings as defaults.
///
/// ```swift
/// var configuration = SQLiteConfiguration(path: "/var/lib/bot/tokens.sqlite")
/// configuration.cacheSize = -10_000        // 10 MB of page cache per connection
/// configuration.mmapSize = 256 << 20       // memory-map up to 256 MB
/// let database = try await SQLiteDatabase(configuration: configuration)
/// ```
///
/// Every setting is applied to every connection when it opens: the writer's first, then each
/// reader's. ``journalMode`` is applied by the writer only (it is a property of the file).
public struct SQLiteConfiguration: Sendable {
    /// Where the database is.
    public enum Location: Sendable, Hashable {
        /// A file, created if missing (its directory must exist).
        case file(path: String)
        /// A private in-memory database, gone when the database is closed.
        ///
        /// It is one connection that serves reads and writes in order, so readers always see
        /// committed data and a read never overtakes a write queued before it. (Shared-cache
        /// mode would allow parallel readers, but it locks whole tables, returns `SQLITE_LOCKED`
        /// to readers while a write is under way, and SQLite's documentation discourages it.)
        case inMemory
    }

    /// The journal mode (`PRAGMA journal_mode`).
    public enum JournalMode: String, Sendable, Hashable, CaseIterable {
        /// Write-ahead log: readers never block the writer nor the writer readers. The default.
        case wal = "WAL"
        /// Rollback journal deleted at each commit (SQLite's own default).
        case delete = "DELETE"
        /// Rollback journal truncated at each commit.
        case truncate = "TRUNCATE"
        /// Rollback journal kept and zeroed at each commit.
        case persist = "PERSIST"
    }

    /// How often SQLite waits for the disk (`PRAGMA synchronous`).
    public enum Synchronous: String, Sendable, Hashable, CaseIterable {
        /// Never: a power loss can corrupt the database.
        case off = "OFF"
        /// At checkpoints in WAL mode: a power loss can lose the last commits but never corrupts.
        /// The default, and SQLite's recommendation for WAL.
        case normal = "NORMAL"
        /// At every commit.
        case full = "FULL"
        /// At every commit, and the directory after deleting a rollback journal.
        case extra = "EXTRA"
    }

    /// Where the database is.
    public var location: Location
    /// The journal mode. Default ``JournalMode/wal``. Readers run in parallel with the writer only
    /// in WAL mode; in the other modes a reader waits (busy retry) while a write commits.
    public var journalMode: JournalMode = .wal
    /// `PRAGMA synchronous`. Default ``Synchronous/normal``.
    public var synchronous: Synchronous = .normal
    /// `PRAGMA cache_size` of each connection: negative for KiB, positive for pages.
    /// Default -2000 (2 MB, SQLite's default); -10000 is 10 MB.
    public var cacheSize = -2000
    /// `PRAGMA mmap_size` in bytes: how much of the file each connection memory-maps for reads;
    /// 0 turns memory-mapping off. Default 0 (SQLite's default).
    public var mmapSize = 0
    /// How long a statement keeps retrying while another connection or process holds the lock
    /// (`SQLITE_BUSY`/`SQLITE_LOCKED`), with exponential back-off (1 ms doubling up to 64 ms,
    /// with jitter), before it fails with an error naming this deadline. Default 5 seconds.
    public var busyTimeout: Duration = .seconds(5)
    /// `PRAGMA foreign_keys`: whether foreign key constraints are enforced. Default `true`
    /// (SQLite's own default is `false`).
    public var foreignKeys = true
    /// How many read-only connections serve reads in parallel, each on its own thread, when the
    /// database is opened without a `PoolConfiguration` (with one, its `maxConnections` says).
    /// Default: the number of processor cores, at least 2. Ignored in memory (see ``Location/inMemory``).
    public var readerCount: Int
    /// The most prepared statements each connection keeps for reuse, keyed by SQL text (least
    /// recently used evicted first); 0 prepares every statement anew. Default 64.
    public var statementCacheCapacity = 64
    /// SQL run on every connection after the PRAGMAs, for settings of your own
    /// (`PRAGMA temp_store = MEMORY`, loading functions). The writer runs it first.
    public var setupSQL: [String] = []
    /// Runs on every connection, on the connection's own thread, after the PRAGMAs and
    /// ``setupSQL`` and before the connection serves any work: register functions, check a
    /// setting, read a value. The writer runs it first. What it throws closes that connection:
    /// while the database opens, ``SQLiteDatabase/init(configuration:pool:)`` fails with it; when a
    /// pool opens a connection later, the pool reports it and retries with back-off. Default `nil`.
    public var onConnect: (@Sendable (SQLiteConnection) throws -> Void)?
    /// Where the database logs: opening and closing at `.debug`, busy retries at `.debug`, slow
    /// statements at ``slowStatementLogLevel``. The
    /// initialisers default to a logger that drops everything: pass the application's own.
    public var logger: Logger
    /// A statement that takes this long or longer (from leaving the caller to its last row) is
    /// logged once, with its duration and its text with placeholders (bind values are never
    /// logged). `nil` for no such log. Default 1 s.
    public var slowStatementThreshold: Duration? = .seconds(1)
    /// The level of the slow-statement log line. Default `.info`.
    public var slowStatementLogLevel: Logger.Level = .info

    /// A configuration for a database file (created if missing) or an in-memory database.
    public init(location: Location, logger: Logger = .silent) {
        self.location = location
        self.logger = logger
        readerCount = SQLiteConfiguration.defaultReaderCount
    }

    /// A configuration for a database file, created if missing.
    public init(path: String, logger: Logger = .silent) {
        self.init(location: .file(path: path), logger: logger)
    }

    /// A configuration for a private in-memory database.
    public static func inMemory(logger: Logger = .silent) -> SQLiteConfiguration {
        SQLiteConfiguration(location: .inMemory, logger: logger)
    }

    /// The number of processor cores, at least 2.
    public static var defaultReaderCount: Int {
        max(2, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Checks every setting, so a bad one fails when the database opens, not at the first query.
    func validate() throws(SQLiteError) {
        if case .file(let path) = location, path.isEmpty {
            throw .misuse("the database path is empty: give a file path, or use SQLiteConfiguration.inMemory()")
        }
        guard readerCount >= 1 else {
            throw .misuse("readerCount is \(readerCount): a file database needs at least 1 reader connection")
        }
        guard statementCacheCapacity >= 0 else {
            throw .misuse("statementCacheCapacity is \(statementCacheCapacity): it must be 0 or more")
        }
        guard busyTimeout >= .zero else {
            throw .misuse("busyTimeout is \(busyTimeout): it must be zero or more")
        }
        guard mmapSize >= 0 else {
            throw .misuse("mmapSize is \(mmapSize): it must be 0 (off) or a size in bytes")
        }
    }
}
