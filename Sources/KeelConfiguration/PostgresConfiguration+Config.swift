public import Configuration
public import Logging
public import PostgresPool

extension PostgresConfiguration {
    /// A configuration from the values `config` has under `scope`.
    ///
    /// | Key (under `database`) | Environment variable | Setting |
    /// |---|---|---|
    /// | `url` (required, secret) | `DATABASE_URL` | the libpq connection string |
    /// | `statementCacheCapacity` | `DATABASE_STATEMENT_CACHE_CAPACITY` | prepared statements kept (0: none) |
    /// | `pgBouncerTransactionMode` | `DATABASE_PG_BOUNCER_TRANSACTION_MODE` | `true` behind PgBouncer's transaction mode |
    /// | `statementTimeoutSecs` | `DATABASE_STATEMENT_TIMEOUT_SECS` | server-side statement limit, or `none` |
    /// | `queryTimeoutSecs` | `DATABASE_QUERY_TIMEOUT_SECS` | client-side exchange limit, or `none` |
    ///
    /// The URL is read as a secret: access logs of swift-configuration redact it, and no error
    /// shows it.
    ///
    /// #### Errors
    /// ``KeelConfigurationError`` when the URL is missing or not a valid connection string (the
    /// message never contains the password), or another value does not parse.
    public init(config: ConfigReader, scope: String = "database", logger: Logger) throws(KeelConfigurationError) {
        let values = ConfigValues(config.scoped(to: ConfigKey(scope)), scope: scope)
        guard let url = values.string("url", isSecret: true) else {
            throw values.error("url", "is not set: give a PostgreSQL URL such as postgres://user@host:5432/database")
        }
        do {
            try self.init(connectionString: url, logger: logger)
        } catch {
            throw values.error("url", "is not usable: \(error.message)")
        }
        if let value = try values.count("statementCacheCapacity", minimum: 0) { statementCacheCapacity = value }
        if let value = try values.flag("pgBouncerTransactionMode") { pgBouncerTransactionMode = value }
        if let value = try values.optionalSeconds("statementTimeoutSecs") { statementTimeout = value }
        if let value = try values.optionalSeconds("queryTimeoutSecs") { queryTimeout = value }
    }
}
