import CLibPQ
public import Foundation
public import KeelCore
public import Logging

/// How to connect to PostgreSQL: a libpq connection string and Keel's options.
///
/// The connection string is a URL (`postgres://user:secret@db:5432/app?sslmode=require`) or
/// key/value pairs (`host=db dbname=app user=app password=secret`); every libpq option works,
/// including multi-host failover, TLS and `.pgpass`. It is checked when the configuration is
/// made. The password never appears in ``description``, in logs or in errors.
///
/// ```swift
/// var configuration = try PostgresConfiguration(environment: ProcessInfo.processInfo.environment)
/// configuration.pgBouncerTransactionMode = true   // DATABASE_URL points at PgBouncer
/// ```
public struct PostgresConfiguration: Sendable, CustomStringConvertible {
    /// The libpq connection string (URL or key/value).
    public let connectionString: String
    /// The most prepared statements each connection keeps (least recently used evicted);
    /// 0 sends every statement unnamed. Default 256. Not used in ``pgBouncerTransactionMode``.
    public var statementCacheCapacity = 256
    /// Whether the connection string points at a pooler in transaction mode (PgBouncer's
    /// `pool_mode = transaction`, or any pooler that gives each transaction whichever server
    /// connection is free), so that nothing may rely on session state. Default `false`.
    ///
    /// In this mode every statement is sent unnamed (no prepared statements, whose names would
    /// reach other server connections than the one they were prepared on), and what needs a
    /// session is refused with a ``PostgresError/Code/client`` error that says so:
    /// ``statementTimeout`` (set `statement_timeout` on the role with
    /// `ALTER ROLE … SET statement_timeout = …`, which every server connection then has, or use
    /// PgBouncer's `query_timeout`; ``queryTimeout`` works as always) and
    /// ``PostgresDatabase/notifications(channel:bufferingNewest:reconnectDelay:)`` (`LISTEN` needs
    /// a direct connection). Transactions, pipelined batches, `COPY` and row streaming each stay
    /// on one server connection and work as they do directly. Keel's `SET DateStyle` is one of the
    /// settings PgBouncer keeps for each client; ``setupSQL`` runs once per client connection,
    /// so use it only for those settings (`DateStyle`, `TimeZone`, `client_encoding`,
    /// `application_name`, `standard_conforming_strings`).
    public var pgBouncerTransactionMode = false
    /// Whether each new connection tries the hosts of a multi-host connection string
    /// (`host=a,b,c` or `postgres://a:5432,b:5432/app`) in a random order, so that connections
    /// spread over them, as libpq 16's `load_balance_hosts=random` does (libpq 15 has no such
    /// option: Keel shuffles the list itself). Default `false`: libpq tries them in order.
    public var loadBalancesHosts = false
    /// Which server a multi-host connection string's connections go to: libpq's
    /// `target_session_attrs`, set over whatever the connection string says. Default `nil`: the
    /// connection string's own (libpq's default `any` without one).
    public var targetSessionAttributes: PostgresTargetSession?
    /// The server-side limit on each statement (`statement_timeout`); `nil` for none. A statement
    /// that runs over fails with SQLSTATE 57014 and the connection stays usable. Refused in
    /// ``pgBouncerTransactionMode``, where a session setting does not follow the client.
    public var statementTimeout: Duration?
    /// The client-side limit on each statement exchange, which holds even when the server or the
    /// network stops answering: past it, a cancel request is sent, the connection is closed (the
    /// pool replaces it) and the statement fails at once with a ``PostgresError/Code/timeout``
    /// error. Prefer ``statementTimeout`` for slow queries on a healthy connection (it keeps the
    /// connection); use this as the deadline for a dead network. `nil` for none. Default `nil`.
    public var queryTimeout: Duration?
    /// How long the pool's checks of a connection (the `SELECT 1` pre-ping, the `ROLLBACK` of a
    /// transaction left open) may take before the connection is discarded. Default 5 s.
    public var checkTimeout: Duration = .seconds(5)
    /// After a task cancellation sends a cancel request, how long the statement may take to end
    /// before its connection is closed (the server or network does not answer). Default 5 s.
    public var cancelGracePeriod: Duration = .seconds(5)
    /// How many of a ``PostgresDatabase``'s pooled connections carry its statements multiplexed;
    /// 0 (the default) for none.
    ///
    /// When above 0, ``PostgresDatabase/query(_:)`` and ``PostgresDatabase/execute(_:)`` do not
    /// lease a connection each: their statements, from any number of tasks, are written onto up
    /// to this many connections (no more than the pool's `maxConnections`) in libpq's pipeline
    /// mode, without waiting for earlier results, all those queued in one write, and each result
    /// goes back to its caller. Each statement is its own sync point: an error fails that
    /// statement only. A cancelled caller is answered at once with `CancellationError` and its
    /// statement's result is dropped (the statement itself may still run; no cancel request is
    /// sent, since it would reach the others). ``queryTimeout`` bounds how long the server may
    /// send nothing while statements are in flight, then the connection is closed and they fail.
    /// Transactions, ``PostgresDatabase/withConnection(isolation:_:)``, batches, COPY and
    /// ``PostgresDatabase/forEachRow(_:_:)`` lease connections of their own as before.
    ///
    /// Multiplexed statements run outside any transaction and must not change the session
    /// (`SET`, `LISTEN`, temporary tables): they share connections.
    ///
    /// A connection is served on the executor of the task whose statement set it to work: for a
    /// task that prefers ``PostgresDatabase/taskExecutor``, on the socket reactor's thread, where
    /// its answers are seen, so that callers on that executor are answered with no thread hop.
    public var multiplexedConnections = 0
    /// The clock of a connection's timers: ``queryTimeout`` (and ``checkTimeout``, which bounds
    /// the pool's checks the same way) and ``cancelGracePeriod``. Tests pass a manual clock to
    /// fire them without waiting. Default `ContinuousClock()`.
    public var clock: any Clock<Duration> = ContinuousClock()
    /// SQL run on every new connection, in order, before it is handed out: session settings such
    /// as `SET search_path = app` or `SET TIME ZONE 'UTC'`. Each string runs as one simple-protocol
    /// exchange (several statements separated by `;` are allowed; nothing is prepared), right after
    /// Keel's own `SET DateStyle`, on the thread that connects. A statement that fails closes that
    /// connection and fails its connect with the server's error (its SQLSTATE included); the pool
    /// reports it to the waiting callers and tries again with back-off. Default none.
    public var setupSQL: [String] = []
    /// Runs on every new connection after ``setupSQL``, before it is handed out (prepare
    /// statements, check the server's version, `LISTEN`). What it throws closes that connection
    /// and fails its connect with a ``PostgresError/Code/connection`` error that carries it, as
    /// a failing ``setupSQL`` statement does. Default `nil`.
    public var onConnect: (@Sendable (PostgresConnection) async throws -> Void)?
    /// Where connections log: NOTICE messages at `.info`, connection events at `.debug`, slow
    /// statements at ``slowStatementLogLevel``. The initialisers default to a logger that drops
    /// everything: pass the application's own.
    public var logger: Logger
    /// A statement that takes this long or longer (from sending it to its last row) is logged once,
    /// with its duration and its text with placeholders (bind values are never logged). `nil` for
    /// no such log. Default 1 s.
    public var slowStatementThreshold: Duration? = .seconds(1)
    /// The level of the slow-statement log line. Default `.info`.
    public var slowStatementLogLevel: Logger.Level = .info
    private let redacted: String

    /// A configuration from a connection string.
    ///
    /// #### Errors
    /// ``PostgresError`` (client) when libpq cannot parse the string; the message never
    /// contains the password.
    public init(connectionString: String, logger: Logger = .silent) throws(PostgresError) {
        try Self.refuseAmbiguousUserInformation(in: connectionString)
        self.connectionString = connectionString
        self.logger = logger
        redacted = try Self.redactedDescription(of: connectionString)
    }

    /// Refuses a URL with more than one `@` before its host: libpq splits at the first, so the rest
    /// of a password holding an unencoded `@` would become the host, and show in descriptions
    /// and errors (`could not translate host name "ss@db"`).
    private static func refuseAmbiguousUserInformation(in connectionString: String) throws(PostgresError) {
        let trimmed = connectionString.drop { $0 == " " }
        guard trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://"), let scheme = trimmed.range(of: "://") else { return }
        let authority = trimmed[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" }
        guard authority.filter({ $0 == "@" }).count > 1 else { return }
        throw .client(
            "the PostgreSQL connection string has more than one \"@\" before the host: write an \"@\" in the user name or password as %40")
    }

    /// A configuration from `DATABASE_URL` (or `variable`) in `environment`.
    ///
    /// #### Errors
    /// ``PostgresError`` (client) when the variable is missing, empty or not a valid connection string.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment, variable: String = "DATABASE_URL",
        logger: Logger = .silent
    ) throws(PostgresError) {
        guard let value = environment[variable], !value.isEmpty else {
            throw .client("\(variable) is not set: set it to a PostgreSQL URL such as postgres://user@host:5432/database")
        }
        try self.init(connectionString: value, logger: logger)
    }

    /// The connection's settings as libpq parsed them, with the password shown as `<redacted>`.
    public var description: String { redacted }

    /// The keywords and values a new connection is opened with: the connection string as it is
    /// (for libpq to expand), or, when hosts are shuffled or a target session is set, its parsed
    /// options with those applied.
    func connectionParameters(using generator: inout some RandomNumberGenerator) -> (keywords: [String], values: [String], expand: Bool) {
        guard loadBalancesHosts || targetSessionAttributes != nil, var options = Self.parsedOptions(of: connectionString) else {
            return (["dbname", "client_encoding"], [connectionString, "UTF8"], true)
        }
        if loadBalancesHosts {
            let hostLists = ["host", "hostaddr", "port"].map { key in options.first { $0.key == key }?.value.split(separator: ",", omittingEmptySubsequences: false) ?? [] }
            let count = hostLists.map(\.count).max() ?? 0
            if count > 1 {
                let order = Array(0..<count).shuffled(using: &generator)
                for (key, list) in zip(["host", "hostaddr", "port"], hostLists) where list.count == count {
                    let shuffled = order.map { String(list[$0]) }.joined(separator: ",")
                    if let index = options.firstIndex(where: { $0.key == key }) { options[index].value = shuffled }
                }
            }
        }
        if let targetSessionAttributes {
            options.removeAll { $0.key == "target_session_attrs" }
            options.append((key: "target_session_attrs", value: targetSessionAttributes.rawValue))
        }
        options.removeAll { $0.key == "client_encoding" }
        options.append((key: "client_encoding", value: "UTF8"))
        return (options.map(\.key), options.map(\.value), false)
    }

    /// The connection string's `connect_timeout` (or `PGCONNECT_TIMEOUT` when it has none), which
    /// bounds each connection attempt as libpq reads it: whole seconds, at least 2; `nil` when
    /// unset, zero or negative.
    var connectTimeout: Duration? {
        let value = Self.parsedOptions(of: connectionString)?.first { $0.key == "connect_timeout" }?.value
            ?? ProcessInfo.processInfo.environment["PGCONNECT_TIMEOUT"]
        guard let value, let seconds = Int(value.trimmingCharacters(in: .whitespaces)), seconds > 0 else { return nil }
        return .seconds(max(seconds, 2))
    }

    /// The servers the connection string names, `host:port` (or a socket folder), for errors.
    var serverNames: String {
        let options = Self.parsedOptions(of: connectionString) ?? []
        func list(_ key: String) -> [String] {
            options.first { $0.key == key }?.value.split(separator: ",", omittingEmptySubsequences: false).map(String.init) ?? []
        }
        let hosts = list("host").isEmpty ? list("hostaddr") : list("host")
        let ports = list("port")
        guard !hosts.isEmpty else { return "the default server" }
        return hosts.enumerated().map { index, host in
            let port = ports.count == hosts.count ? ports[index] : (ports.first ?? "5432")
            return host.hasPrefix("/") ? host : "\(host):\(port.isEmpty ? "5432" : port)"
        }.joined(separator: ", ")
    }

    /// The options `connectionString` sets, as libpq parses them; `nil` when it does not parse.
    static func parsedOptions(of connectionString: String) -> [(key: String, value: String)]? {
        guard let parsed = PQconninfoParse(connectionString, nil) else { return nil }
        defer { PQconninfoFree(parsed) }
        var options: [(key: String, value: String)] = []
        var option = parsed
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { options.append((String(cString: keyword), String(cString: value))) }
            option += 1
        }
        return options
    }

    /// Parses with `PQconninfoParse` and lists the set options, password hidden.
    private static func redactedDescription(of connectionString: String) throws(PostgresError) -> String {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            var message = errorMessage.map { String(cString: $0) } ?? "out of memory"
            if let errorMessage { PQfreemem(errorMessage) }
            for secret in passwordCandidates(in: connectionString) where !secret.isEmpty {
                message = message.replacingOccurrences(of: secret, with: "<redacted>")
            }
            message = redactingQuotedTokens(in: message)
            throw .client(
                "the PostgreSQL connection string is not valid: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        defer { PQconninfoFree(options) }
        var parts: [String] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                let name = String(cString: keyword)
                parts.append(name == "password" ? "password=<redacted>" : "\(name)=\(String(cString: value))")
            }
            option += 1
        }
        return parts.joined(separator: " ")
    }

    /// libpq's parse errors quote the token at fault, which may hold the password wherever the
    /// string is malformed (`missing "=" after "postgres:/app:secret@db"`), and may itself hold
    /// quotes, so the whole stretch from the first quote to the last is judged at once: it is
    /// kept only when every quoted piece is an option name or short punctuation (`"="`) and the
    /// text between them is libpq's own words (`" after "`); otherwise it becomes `"<redacted>"`.
    private static func redactingQuotedTokens(in message: String) -> String {
        // Scalars, not Characters: a quote followed by a combining mark is one Character.
        let scalars = Array(message.unicodeScalars)
        func text(_ slice: ArraySlice<Unicode.Scalar>) -> String { String(String.UnicodeScalarView(slice)) }
        guard let first = scalars.firstIndex(of: "\""), let last = scalars.lastIndex(of: "\""), first < last else {
            if let lone = scalars.firstIndex(of: "\"") { return text(scalars[...lone]) + "<redacted>" }
            return message
        }
        let pieces = scalars[(first + 1)..<last].split(separator: "\"", omittingEmptySubsequences: false)
        let safe = pieces.enumerated().allSatisfy { index, piece in
            if index.isMultiple(of: 2) {  // quoted
                let isName = !piece.isEmpty && piece.count <= 40
                    && piece.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }
                let isPunctuation = !piece.isEmpty && piece.count <= 2
                    && piece.allSatisfy { $0.isASCII && !$0.properties.isAlphabetic && !("0"..."9").contains($0) && $0.value > 32 }
                return isName || isPunctuation
            }
            return piece.count <= 40 && piece.contains(" ")
                && piece.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || $0 == " " || $0 == ":" || $0 == "/") }
        }
        return safe ? message : text(scalars[...first]) + "<redacted>" + text(scalars[last...])
    }

    /// Substrings that may be the password of a string libpq could not parse.
    private static func passwordCandidates(in connectionString: String) -> [String] {
        var candidates: [String] = []
        if let scheme = connectionString.range(of: "://") {
            let rest = connectionString[scheme.upperBound...]
            if let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
                candidates.append(String(rest[rest.index(after: colon)..<at]))
            }
        }
        if let range = connectionString.range(of: "password=") {
            candidates.append(String(connectionString[range.upperBound...].prefix { $0 != " " && $0 != "&" }))
        }
        return candidates
    }
}
