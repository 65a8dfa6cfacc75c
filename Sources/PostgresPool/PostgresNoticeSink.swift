import CLibPQ
import Logging

/// Sends the server's NOTICE and WARNING messages to the connection's Logger at `.info`.
final class PostgresNoticeSink: Sendable {
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// libpq's notice receiver; `context` is an unretained `PostgresNoticeSink`.
    static let receiver: PQnoticeReceiver = { context, result in
        guard let context, let result else { return }
        let sink = Unmanaged<PostgresNoticeSink>.fromOpaque(context).takeUnretainedValue()
        let severity = PQresultErrorField(result, Int32(UInt8(ascii: "V"))).map { String(cString: $0) } ?? "NOTICE"
        let message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) } ?? ""
        sink.logger.info("PostgreSQL \(severity): \(message)")
    }
}
