import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Server-Sent Events client for tests: sends one GET over a plain socket and parses the
/// events of the response on a thread of its own (its reads block), so the tests' tasks only look
/// at what arrived.
final class EventStreamReader: Sendable {
    struct Event: Equatable, Sendable {
        var id: String?
        var event: String?
        var data: String
    }

    private let socket: Int32
    private let state = Mutex<(head: String?, events: [Event], ended: Bool)>((nil, [], false))

    /// Connects to 127.0.0.1:`port` and asks for `path` with `headers`.
    init(port: Int, path: String, headers: [String: String] = [:]) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            throw POSIXError(.ECONNREFUSED)
        }
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        _ = request.withCString { send(socket, $0, strlen($0), 0) }
        let thread = Thread { [self] in readUntilTheEnd() }
        thread.start()
    }

    /// The response's status line and headers, once they arrived.
    var head: String? { state.withLock { $0.head } }
    /// The events so far.
    var events: [Event] { state.withLock { $0.events } }
    /// Whether the server ended the response (or the connection).
    var ended: Bool { state.withLock { $0.ended } }

    /// Waits (polling every 10 ms, up to `timeout`) until `condition` holds; returns whether it did.
    func wait(timeout: Duration = .seconds(10), until condition: (EventStreamReader) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !condition(self) {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// Closes the connection (the reading thread then ends).
    func stop() {
        shutdown(socket, Int32(SHUT_RDWR))
    }

    private func readUntilTheEnd() {
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        var bodyStart: Int?
        var parsed = 0
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
            if bodyStart == nil, let end = Self.range(of: [13, 10, 13, 10], in: received) {
                bodyStart = end
                parsed = end
                let head = String(decoding: received[0..<end], as: UTF8.self)
                state.withLock { $0.head = head }
            }
            guard bodyStart != nil else { continue }
            // The body is chunked: events are found in the text between chunk-size lines, which
            // never look like `field: value` lines.
            guard let end = Self.lastRange(of: [10, 10], in: received, from: parsed) else { continue }
            // "\r\n" (the chunks' framing) is one Character in Swift: made "\n" before splitting.
            let complete = String(decoding: received[parsed..<end], as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            parsed = end
            var events: [Event] = []
            for block in complete.components(separatedBy: "\n\n") {
                var event = Event(id: nil, event: nil, data: "")
                var isEvent = false
                for line in block.split(separator: "\n") {
                    if line.hasPrefix("id: ") { event.id = String(line.dropFirst(4)); isEvent = true }
                    if line.hasPrefix("event: ") { event.event = String(line.dropFirst(7)); isEvent = true }
                    if line.hasPrefix("data: ") { event.data = String(line.dropFirst(6)); isEvent = true }
                }
                if isEvent { events.append(event) }
            }
            state.withLock { $0.events += events }
        }
        close(socket)
        state.withLock { $0.ended = true }
    }

    /// The end of the last occurrence of `pattern` in `bytes` at or after `start`.
    private static func lastRange(of pattern: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count - start >= pattern.count else { return nil }
        for first in stride(from: bytes.count - pattern.count, through: start, by: -1)
        where Array(bytes[first..<first + pattern.count]) == pattern {
            return first + pattern.count
        }
        return nil
    }

    private static func range(of pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= pattern.count else { return nil }
        for start in 0...(bytes.count - pattern.count) where Array(bytes[start..<start + pattern.count]) == pattern {
            return start + pattern.count
        }
        return nil
    }
}
