import CHiredis

/// hiredis's reply parser: bytes go in with ``feed(_:)``, complete replies come out of
/// ``next()``. Owned by one connection and used by the task that holds it.
final class RedisReplyReader {
    private let reader: UnsafeMutablePointer<redisReader>

    init() {
        guard let reader = redisReaderCreate() else { fatalError("hiredis could not allocate a reply reader") }
        self.reader = reader
    }

    deinit { redisReaderFree(reader) }

    /// Hands `count` bytes read from the socket to the parser.
    func feed(_ bytes: UnsafePointer<UInt8>, count: Int) throws(RedisError) {
        let status = bytes.withMemoryRebound(to: CChar.self, capacity: count) { redisReaderFeed(reader, $0, count) }
        guard status == REDIS_OK else { throw protocolError() }
    }

    /// The next complete reply (an error reply as `.failure`), or `nil` when more bytes are needed.
    func next() throws(RedisError) -> Result<RedisValue, RedisError>? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw protocolError() }
        guard let raw else { return nil }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        if reply.pointee.type == REDIS_REPLY_ERROR { return .failure(RedisError(serverReply: Self.text(of: reply))) }
        return .success(Self.value(of: reply))
    }

    private static func value(of reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        switch reply.pointee.type {
        case REDIS_REPLY_STRING:
            return .bulkString(Self.bytes(of: reply))
        case REDIS_REPLY_STATUS:
            return .simpleString(Self.text(of: reply))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(reply.pointee.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisValue] = []
            elements.reserveCapacity(reply.pointee.elements)
            for index in 0..<reply.pointee.elements {
                guard let element = reply.pointee.element[index] else { elements.append(.null); continue }
                // An error inside an array (a failed command of EXEC) is kept as its text.
                if element.pointee.type == REDIS_REPLY_ERROR {
                    elements.append(.simpleString(Self.text(of: element)))
                } else {
                    elements.append(value(of: element))
                }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func bytes(of reply: UnsafeMutablePointer<redisReply>) -> [UInt8] {
        guard let start = reply.pointee.str, reply.pointee.len > 0 else { return [] }
        return start.withMemoryRebound(to: UInt8.self, capacity: reply.pointee.len) {
            Array(UnsafeBufferPointer(start: $0, count: reply.pointee.len))
        }
    }

    private static func text(of reply: UnsafeMutablePointer<redisReply>) -> String {
        String(decoding: bytes(of: reply), as: UTF8.self)
    }

    private func protocolError() -> RedisError {
        let message = withUnsafeBytes(of: reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return RedisError(code: .protocolViolation, message: message.isEmpty ? "the reply could not be parsed" : message)
    }
}
