import Foundation

/// The `cache` suite's peer, Caffeine, run as a Java process (Benchmarks/Peers/Caffeine, built by
/// scripts/bench.sh, which names its class path in `KEEL_CAFFEINE_CLASSPATH`).
public enum CaffeinePeer {
    /// The class path of the built peer, or `nil` when scripts/bench.sh did not build it.
    public static var classPath: String? {
        ProcessInfo.processInfo.environment["KEEL_CAFFEINE_CLASSPATH"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A started peer process with the given arguments (after the class path and main class).
    public static func start(_ arguments: [String]) throws -> (process: Process, input: FileHandle, output: FileHandle) {
        guard let classPath else { throw PeerError("KEEL_CAFFEINE_CLASSPATH is not set: run the suite with scripts/bench.sh cache") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/java")
        process.arguments = ["-cp", classPath, "CaffeinePeer"] + arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        return (process, input.fileHandleForWriting, output.fileHandleForReading)
    }

    /// Writes `values` to a new file under the temporary directory as little-endian integers of
    /// `T`; returns its path.
    public static func writeFile<T: FixedWidthInteger>(_ values: [T], name: String) throws -> String {
        let path = NSTemporaryDirectory() + "keel-cache-\(name)-\(ProcessInfo.processInfo.processIdentifier).bin"
        let data = values.withUnsafeBufferPointer { buffer in
            Data(buffer: UnsafeBufferPointer(start: buffer.baseAddress, count: buffer.count))
        }
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Replays the trace in the file at `path` through Caffeine at each capacity; the hits at each.
    public static func replay(tracePath: String, capacities: [Int]) throws -> [Int: Int] {
        let (process, input, output) = try start(["replay", tracePath] + capacities.map(String.init))
        try input.close()
        let text = String(decoding: output.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PeerError("the Caffeine replay exited with \(process.terminationStatus)") }
        var hits: [Int: Int] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").compactMap { Int($0) }
            if fields.count == 3 { hits[fields[0]] = fields[1] }
        }
        guard Set(hits.keys) == Set(capacities) else { throw PeerError("the Caffeine replay printed \(text)") }
        return hits
    }

    /// A failure to run the peer.
    public struct PeerError: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }
}
