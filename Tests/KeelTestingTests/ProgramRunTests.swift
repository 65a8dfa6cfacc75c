#if os(Linux)
import Foundation
import KeelCore
import KeelTesting
import Testing

@Suite struct ProgramRunTests {
    /// A server started from a thread that blocks SIGTERM (as the test runner's threads do) must
    /// still stop on SIGTERM: the program starts with nothing blocked or ignored.
    @Test func aProgramStartsWithNoSignalBlockedOrIgnoredWhateverItsStarterBlocks() async throws {
        let outputPath = FileManager.default.temporaryDirectory.path + "/keel-program-run-test-\(UUID().uuidString).out"
        defer { unlink(outputPath) }
        let status = await BlockingThread.run(name: "keel-blocking-sigterm") { () -> Int32? in
            var blocked = sigset_t()
            sigemptyset(&blocked)
            sigaddset(&blocked, SIGTERM)
            pthread_sigmask(SIG_BLOCK, &blocked, nil)
            signal(SIGUSR2, SIG_IGN)
            defer { signal(SIGUSR2, SIG_DFL) }
            return try? ProgramRun.spawnAndWait(["/usr/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"], environment: nil, outputPath: outputPath).get()
        }
        #expect(status == 0)
        let output = try String(contentsOfFile: outputPath, encoding: .utf8)
        // Signals 1 to 31, bit n - 1 of each mask; glibc keeps 32 and 33 for itself.
        func mask(_ name: String) -> UInt64? {
            output.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { UInt64($0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces), radix: 16) }
        }
        #expect(mask("SigBlk").map { $0 & 0x7FFF_FFFF } == 0, "\(output)")
        #expect(mask("SigIgn").map { $0 & 0x7FFF_FFFF } == 0, "\(output)")
    }
}
#endif
