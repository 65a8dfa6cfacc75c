public import Configuration
public import Logging
public import SQLitePool

extension SQLiteConfiguration {
    /// A configuration from the values `config` has under `scope`, SQLite's recommended server
    /// settings where a value is not given.
    ///
    /// | Key (under `sqlite`) | Environment variable | Setting |
    /// |---|---|---|
    /// | `path` (required) | `SQLITE_PATH` | the database file, or `:memory:` |
    /// | `readerCount` | `SQLITE_READER_COUNT` | reader connections (≥ 1) |
    /// | `journalMode` | `SQLITE_JOURNAL_MODE` | `wal`, `delete`, `truncate`, `persist` |
    /// | `synchronous` | `SQLITE_SYNCHRONOUS` | `off`, `normal`, `full`, `extra` |
    /// | `cacheSize` | `SQLITE_CACHE_SIZE` | `PRAGMA cache_size` (negative: KiB) |
    /// | `mmapSize` | `SQLITE_MMAP_SIZE` | bytes memory-mapped (≥ 0) |
    /// | `busyTimeoutSecs` | `SQLITE_BUSY_TIMEOUT_SECS` | seconds of busy retry (≥ 0) |
    /// | `foreignKeys` | `SQLITE_FOREIGN_KEYS` | `true` or `false` |
    /// | `statementCacheCapacity` | `SQLITE_STATEMENT_CACHE_CAPACITY` | statements kept per connection (≥ 0) |
    ///
    /// #### Errors
    /// ``KeelConfigurationError`` naming the key when the path is missing or a value does not parse.
    public init(config: ConfigReader, scope: String = "sqlite", logger: Logger) throws(KeelConfigurationError) {
        let values = ConfigValues(config.scoped(to: ConfigKey(scope)), scope: scope)
        guard let path = values.string("path") else {
            throw values.error("path", "is not set: give a database file's path, or :memory:")
        }
        self.init(location: path == ":memory:" ? .inMemory : .file(path: path), logger: logger)
        if let value = try values.count("readerCount", minimum: 1) { readerCount = value }
        if let value = try values.choice("journalMode", Dictionary(uniqueKeysWithValues: JournalMode.allCases.map { ($0.rawValue.lowercased(), $0) })) {
            journalMode = value
        }
        if let value = try values.choice("synchronous", Dictionary(uniqueKeysWithValues: Synchronous.allCases.map { ($0.rawValue.lowercased(), $0) })) {
            synchronous = value
        }
        if let value = try values.count("cacheSize", minimum: Int.min) { cacheSize = value }
        if let value = try values.count("mmapSize", minimum: 0) { mmapSize = value }
        if let value = try values.seconds("busyTimeoutSecs", allowZero: true) { busyTimeout = value }
        if let value = try values.flag("foreignKeys") { foreignKeys = value }
        if let value = try values.count("statementCacheCapacity", minimum: 0) { statementCacheCapacity = value }
    }
}
