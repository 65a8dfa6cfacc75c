import CHiredis
import Redis
import Testing

struct RedisCommandTests {
    /// hiredis's own encoding of `arguments`, the reference.
    static func hiredisEncoding(_ arguments: [[UInt8]]) -> [UInt8] {
        var formatted: UnsafeMutablePointer<CChar>?
        let joined = arguments.map { $0 + [0] }
        var pointers: [UnsafePointer<CChar>?] = []
        var buffers: [UnsafeMutablePointer<CChar>] = []
        for argument in joined {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: argument.count)
            for (index, byte) in argument.enumerated() { buffer[index] = CChar(bitPattern: byte) }
            buffers.append(buffer)
            pointers.append(UnsafePointer(buffer))
        }
        defer { for buffer in buffers { buffer.deallocate() } }
        let lengths = arguments.map(\.count)
        let length = redisFormatCommandArgv(&formatted, Int32(arguments.count), &pointers, lengths)
        guard length > 0, let formatted else { return [] }
        defer { redisFreeCommand(formatted) }
        return formatted.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { Array(UnsafeBufferPointer(start: $0, count: Int(length))) }
    }

    @Test func aCommandIsRESPAsHiredisWritesIt() {
        #expect(RedisCommand("GET", "k").encoded == Array("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".utf8))
        let cases: [[[UInt8]]] = [
            [Array("PING".utf8)],
            [Array("SET".utf8), Array("key".utf8), []],
            [Array("SET".utf8), Array("k".utf8), [0, 13, 10, 255, 36, 42]],
            [Array("RPUSH".utf8), Array("list".utf8)] + (0..<12).map { Array("value \($0)".utf8) },
            [Array("SET".utf8), Array("big".utf8), [UInt8](repeating: 120, count: 123_456)],
            [Array("ECHO".utf8), Array("héllo ✓".utf8)],
        ]
        for arguments in cases {
            #expect(RedisCommand(arguments: arguments).encoded == Self.hiredisEncoding(arguments))
        }
        let text = RedisCommand("RPUSH", ["list"] + (0..<12).map { "value \($0)" })
        #expect(text.encoded == Self.hiredisEncoding(cases[3]))
    }

    @Test func theDescriptionNamesTheCommandButNoArgument() {
        let auth = RedisCommand("auth", "keel_test", "s3cret")
        #expect(auth.name == "AUTH")
        #expect(auth.argumentCount == 2)
        #expect(auth.description == "AUTH (2 arguments)")
        #expect(!auth.description.contains("s3cret"))
        #expect(RedisCommand("PING").description == "PING (0 arguments)")
        #expect(RedisCommand("GET", "k").description == "GET (1 argument)")
    }
}
