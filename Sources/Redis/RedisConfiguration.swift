public import Foundation
public import KeelCore
public import Logging

/// How to connect to Redis: the server, the login, the database, and the time limits.
///
/// Made from a URL, `redis://[user:password@]host[:port][/database]` (`REDIS_URL`), or field by
/// field. The password never appears in ``description``, in logs or in errors.
///
/// ```swift
/// var configuration = try RedisConfiguration(url: "redis://app:secret@127.0.0.1:6379/0")
/// configuration.commandTimeout = .seconds(1)
/// ```
///
/// `rediss://` (TLS) is refused: the hiredis Keel builds on (Debian's 0.14) has no TLS. Run Redis
/// on a private network, or put a TLS tunnel (stunnel, spiped) in front of it.
public struct RedisConfiguration: Sendable, CustomStringConvertible {
    /// The server's host name or address. Default `127.0.0.1`.
    public var host = "127.0.0.1"
    /// The server's port. Default 6379.
    public var port = 6379
    /// The ACL user for `AUTH`; `nil` logs in as the default user (with ``password`` only).
    public var username: String?
    /// The password for `AUTH`; `nil` sends no `AUTH`.
    public var password: String?
    /// The database number chosen with `SELECT` when it is not 0. Default 0.
    public var database = 0
    /// How long connecting (name resolution, TCP, `AUTH`, `SELECT`) may take. Default 5 s.
    public var connectTimeout: Duration = .seconds(5)
    /// How long a command (or a pipeline) may wait for its replies; past it the command fails
    /// with ``RedisError/Code/timeout`` and its connection is closed, so its late reply can never
    /// reach the next command. `nil` for none (blocking commands such as `BLPOP` with no
    /// timeout of their own). Checked every few milliseconds. Default 5 s.
    public var commandTimeout: Duration? = .seconds(5)
    /// Where connections log connection events (at `.debug`); defaults to a logger that drops
    /// everything.
    public var logger: Logger

    /// A configuration for the server at `host`:`port` with no login.
    public init(host: String, port: Int = 6379, logger: Logger = .silent) {
        self.host = host
        self.port = port
        self.logger = logger
    }

    /// A configuration from a `redis://` URL.
    ///
    /// #### Errors
    /// ``RedisError`` with code ``RedisError/Code/misuse`` when the URL is not a `redis://` URL
    /// with a host (`rediss://` included, see above), or its port or database is not a number in
    /// range. The message shows the URL without its password.
    public init(url: String, logger: Logger = .silent) throws(RedisError) {
        self.logger = logger
        let shown = Self.redacted(url)
        guard let components = URLComponents(string: url) else {
            throw RedisError(code: .misuse, message: "\(shown) is not a URL: expected redis://[user:password@]host[:port][/database]")
        }
        switch components.scheme?.lowercased() {
        case "redis":
            break
        case "rediss":
            throw RedisError(
                code: .misuse,
                message: "\(shown) asks for TLS (rediss://), which Keel's Redis client does not support (its hiredis has no TLS): use redis:// on a private network or through a TLS tunnel")
        default:
            throw RedisError(code: .misuse, message: "\(shown) is not a redis:// URL: expected redis://[user:password@]host[:port][/database]")
        }
        guard let host = components.host, !host.isEmpty else {
            throw RedisError(code: .misuse, message: "\(shown) has no host: expected redis://[user:password@]host[:port][/database]")
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let port = components.port {
            guard (1...65_535).contains(port) else { throw RedisError(code: .misuse, message: "\(shown): port \(port) is out of range") }
            self.port = port
        }
        let user = components.user.flatMap { $0.isEmpty ? nil : $0 }
        let password = components.password.flatMap { $0.isEmpty ? nil : $0 }
        // redis://secret@host: a lone user part is the password, as redis-cli reads it.
        if password == nil, let user {
            self.password = user
        } else {
            username = user
            self.password = password
        }
        let path = components.path.drop { $0 == "/" }
        if !path.isEmpty {
            guard let database = Int(path), database >= 0 else {
                throw RedisError(code: .misuse, message: "\(shown): the database '\(path)' is not a number (expected /0, /1, …)")
            }
            self.database = database
        }
    }

    /// A configuration from `REDIS_URL` (or `variable`) in `environment`.
    ///
    /// #### Errors
    /// ``RedisError`` with code ``RedisError/Code/misuse`` when the variable is missing, empty or
    /// not a valid URL.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment, variable: String = "REDIS_URL",
        logger: Logger = .silent
    ) throws(RedisError) {
        guard let value = environment[variable], !value.isEmpty else {
            throw RedisError(code: .misuse, message: "\(variable) is not set: set it to a URL such as redis://127.0.0.1:6379/0")
        }
        try self.init(url: value, logger: logger)
    }

    /// Checks every setting.
    ///
    /// #### Errors
    /// ``RedisError`` with code ``RedisError/Code/misuse`` naming the setting and its value.
    public func validate() throws(RedisError) {
        guard !host.isEmpty else { throw RedisError(code: .misuse, message: "host is empty") }
        guard (1...65_535).contains(port) else { throw RedisError(code: .misuse, message: "port \(port) is out of range 1...65535") }
        guard database >= 0 else { throw RedisError(code: .misuse, message: "database \(database) is negative") }
        guard connectTimeout > .zero else { throw RedisError(code: .misuse, message: "connectTimeout \(connectTimeout) is not positive") }
        if let commandTimeout, commandTimeout <= .zero {
            throw RedisError(code: .misuse, message: "commandTimeout \(commandTimeout) is not positive")
        }
        if username != nil && password == nil {
            throw RedisError(code: .misuse, message: "username is set without a password: AUTH needs both")
        }
    }

    /// The server as a URL, with the password shown as `<redacted>`.
    public var description: String {
        var login = ""
        if let username { login = username }
        if password != nil { login += ":<redacted>" }
        if !login.isEmpty { login += "@" }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "redis://\(login)\(shownHost):\(port)/\(database)"
    }

    /// `url` with whatever sits between `://` and the last `@` before the host replaced.
    static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "the URL" }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" }
        guard let at = authority.lastIndex(of: "@") else { return url }
        let login = authority[..<at]
        let user = login.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        let shownLogin = login.contains(":") ? "\(user):<redacted>" : "<redacted>"
        return String(url[..<schemeEnd.upperBound]) + shownLogin + String(rest[at...])
    }
}
