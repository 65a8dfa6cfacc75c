import Foundation
import KeelCore

/// Runs programs for Keel's test support and its own tests (servers' control programs, helper
/// processes) and waits for them on a thread of their own, never on a cooperative thread.
///
/// `posix_spawn` and `waitpid` rather than Foundation's `Process`, whose exit monitoring missed the
/// end of a child here. Standard output and error go to a temporary file, read when the program
/// exits: a pipe would stay open as long as any process the program leaves running (a server that
/// `pg_ctl start` started) lives.
package enum ProgramRun {
    /// A program that could not be started.
    package struct SpawnError: Error, CustomStringConvertible {
        /// Why, with the program's path.
        package let description: String
    }

    /// Runs `argv` (the program's path first) with `environment` (this process's when `nil`);
    /// returns its exit status (128 + the signal's number when a signal ended it, as a shell says)
    /// and what it wrote.
    package static func run(_ argv: [String], environment: [String: String]? = nil) async throws -> (status: Int32, output: String) {
        let outcome = await BlockingThread.run(name: "keel-program") { () -> Result<(status: Int32, output: String), SpawnError> in
            let outputPath = FileManager.default.temporaryDirectory.path + "/keel-program-\(UUID().uuidString).out"
            defer { unlink(outputPath) }
            return spawnAndWait(argv, environment: environment, outputPath: outputPath).map { status in
                (status, (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
            }
        }
        return try outcome.get()
    }

    /// Runs `argv` with `environment`, its output to `outputPath`, and waits for it on the calling
    /// thread; the program starts with no signal blocked and every signal at its default action.
    package static func spawnAndWait(_ argv: [String], environment: [String: String]?, outputPath: String) -> Result<Int32, SpawnError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let environmentList = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environmentList.map { strdup($0) } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        // The child starts with no signal blocked and every signal at its default action: a server
        // it starts inherits both, and a thread that blocks SIGTERM (as the test runner's do) would
        // otherwise leave that server deaf to the SIGTERM that stops it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid = pid_t()
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, cEnvironment)
        guard spawned == 0 else {
            return .failure(SpawnError(description: "could not run \(argv[0]): \(String(cString: strerror(spawned)))"))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                return .failure(SpawnError(description: "waiting for \(argv[0]) failed: \(String(cString: strerror(errno)))"))
            }
        }
        // WIFEXITED / WEXITSTATUS, which Swift does not import: the low 7 bits are the signal.
        return .success(status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
    }
}
