import Foundation

/// A PostgreSQL server of your test's own: created in a temporary folder with `initdb`, started
/// on 127.0.0.1 on a free port with password authentication, and deleted by ``stop()``.
///
/// ```swift
/// let server = try await ThrowawayPostgres.start()
/// defer { Task { await server.stop() } }          // or call stop() at the end of the test
/// let database = try PostgresDatabase(configuration: PostgresConfiguration(connectionString: server.url))
/// ```
///
/// It needs PostgreSQL's server programs (Debian's `postgresql` package; the newest
/// `/usr/lib/postgresql/*/bin` is used, else `initdb` on the `PATH`). `initdb` and `pg_ctl`
/// refuse to run as root, so as root they run as the `postgres` OS user (`runuser`), which owns
/// the folder. The server skips flushing to disk (`fsync=off`): it is for tests, not for data.
/// Starting one takes a second or two; share one per test suite where you can.
public struct ThrowawayPostgres: Sendable {
    /// A libpq URL for the superuser `postgres` on the database `postgres`, password included.
    public let url: String
    /// The TCP port the server listens on (127.0.0.1).
    public let port: Int
    /// The folder holding the cluster, its log and its unix socket.
    public let directory: String
    private let binDirectory: String

    /// Why a server could not start: which program failed, with its output.
    public struct StartError: Error, CustomStringConvertible {
        /// What failed, with the program's output.
        public let description: String
    }

    /// Creates and starts a server.
    ///
    /// #### Errors
    /// ``StartError`` when PostgreSQL's programs are missing, or `initdb` or `pg_ctl` fail (the
    /// message has their output); nothing is left behind then.
    public static func start() async throws -> ThrowawayPostgres {
        guard let binDirectory = findBinDirectory() else {
            throw StartError(description: "initdb not found: install PostgreSQL's server (apt-get install postgresql)")
        }
        let directory = try makeDirectory()
        do {
            let password = UUID().uuidString.replacingOccurrences(of: "-", with: "")
            let passwordFile = directory + "/superpass"
            try Data((password + "\n").utf8).write(to: URL(fileURLWithPath: passwordFile))
            try handOver(directory, passwordFile)
            try await run(binDirectory + "/initdb", [
                "-D", directory + "/data", "-U", "postgres", "--pwfile=" + passwordFile, "--auth=scram-sha-256",
                "--encoding=UTF8", "--no-locale",
            ])
            let port = try await startServer(binDirectory: binDirectory, directory: directory)
            return ThrowawayPostgres(
                url: "postgresql://postgres:\(password)@127.0.0.1:\(port)/postgres", port: port, directory: directory,
                binDirectory: binDirectory)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`) and deletes its folder. Calling it
    /// again does nothing.
    public func stop() async {
        if FileManager.default.fileExists(atPath: directory + "/data/postmaster.pid") {
            try? await Self.run(binDirectory + "/pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "stop"])
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The password is in ``url``; this names the server without it.
    public var redactedURL: String {
        "postgresql://postgres:<redacted>@127.0.0.1:\(port)/postgres"
    }

    // MARK: Helpers

    private static var isRoot: Bool { getuid() == 0 }

    private static func findBinDirectory() -> String? {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let newest = versions.compactMap(Int.init).sorted().last
        if let newest, FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(newest)/bin/initdb") {
            return "/usr/lib/postgresql/\(newest)/bin"
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map(String.init).first {
            FileManager.default.isExecutableFile(atPath: $0 + "/initdb")
        }
    }

    private static func makeDirectory() throws -> String {
        var template = Array((FileManager.default.temporaryDirectory.path + "/keel-throwaway-pg.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw StartError(description: "could not create a temporary folder: \(String(cString: strerror(errno)))")
        }
        let directory = String(cString: made)
        chmod(directory, 0o755)
        return directory
    }

    /// As root, gives the folder and the password file to the `postgres` OS user that runs the server.
    private static func handOver(_ directory: String, _ passwordFile: String) throws {
        chmod(passwordFile, 0o600)
        guard isRoot else { return }
        guard let user = getpwnam("postgres") else {
            throw StartError(description: "running as root, but there is no postgres OS user to run the server as")
        }
        for path in [directory, passwordFile] {
            guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                throw StartError(description: "could not give \(path) to the postgres user: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// A port on 127.0.0.1 that nothing listens on now.
    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw StartError(description: "socket() failed: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else { throw StartError(description: "no free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts the server on a free port and returns the port. A port taken by someone else
    /// between finding it free and the server binding it is replaced by another, up to three
    /// tries; a failure's message ends with the server's log.
    private static func startServer(binDirectory: String, directory: String) async throws -> Int {
        let logPath = directory + "/server.log"
        var tries = 0
        while true {
            tries += 1
            let port = try freePort()
            do {
                try await run(binDirectory + "/pg_ctl", [
                    "-D", directory + "/data", "-l", logPath, "-w", "-t", "60",
                    "-o", "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory) -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                    "start",
                ])
                return port
            } catch let error as StartError {
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                if tries < 3, log.contains("could not bind") || log.contains("Address already in use") { continue }
                let lastLines = log.split(separator: "\n").suffix(10).joined(separator: "\n")
                throw StartError(description: "\(error.description)\nserver log:\n\(lastLines)")
            }
        }
    }

    /// Runs a program (as the postgres user when root) and waits for it, failing with its output
    /// when it exits with an error.
    private static func run(_ program: String, _ arguments: [String]) async throws {
        let argv = isRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--", program] + arguments : [program] + arguments
        let (status, output) = try await ProgramRun.run(argv)
        guard status == 0 else {
            throw StartError(description: "\((program as NSString).lastPathComponent) exited with \(status): \(output)")
        }
    }
}
