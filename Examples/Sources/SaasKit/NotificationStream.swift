import Foundation
import Hummingbird
import ServiceLifecycle

/// `GET /notifications/stream?since=N`: the notifications after N (or after the `Last-Event-ID`
/// header's id, when a client reconnects), then each new one as it is committed, as Server-Sent
/// Events (`id:` the notification's id, `event:` its kind, `data:` its JSON). A comment line goes
/// out when nothing else did for ``keepAliveInterval``. The stream ends when the client goes away
/// or the server shuts down.
public struct NotificationStream: Sendable {
    /// How long the stream may stay silent before a keep-alive comment.
    public static let keepAliveInterval: Duration = .seconds(15)

    let store: SaasStore
    let since: Int64

    /// The stream for `request`.
    ///
    /// #### Errors
    /// `HTTPError` 400 when `since` or `Last-Event-ID` is not a whole number from 0.
    init(_ request: Request, store: SaasStore) throws {
        let lastEventID = request.headers.first { $0.name.canonicalName == "last-event-id" }?.value
        let text = request.uri.queryParameters["since"].map(String.init) ?? lastEventID
        since = Int64(try PageRequest.number(text, default: 0, range: 0...Int.max, name: "since (or Last-Event-ID)"))
        self.store = store
    }

    /// The response: headers at once, then the events as they come.
    func response() -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { [self] writer in try await write(to: &writer) })
    }

    private func write(to writer: inout any ResponseBodyWriter) async throws {
        // Woken before the first read, so nothing committed after it is missed.
        let wakeUps = store.feed.wakeUps()
        var last = since
        var lastWrite = ContinuousClock.now
        try await writer.write(ByteBuffer(string: ": notifications after \(since)\n\n"))
        var iterator = wakeUps.cancelOnGracefulShutdown().makeAsyncIterator()
        repeat {
            var wrote = false
            while true {
                let batch = try await store.notifications(since: last, limit: 100)
                guard !batch.isEmpty else { break }
                try await writer.write(ByteBuffer(string: batch.map(Self.event).joined()))
                last = batch[batch.count - 1].id
                wrote = true
                if batch.count < 100 { break }
            }
            if wrote {
                lastWrite = .now
            } else if lastWrite.duration(to: .now) >= Self.keepAliveInterval {
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                lastWrite = .now
            }
        } while await iterator.next() != nil
        try await writer.finish(nil)
    }

    /// One notification as an event.
    static func event(_ item: NotificationItem) -> String {
        let data = (try? JSONEncoder().encode(item)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "id: \(item.id)\nevent: \(item.kind)\ndata: \(data)\n\n"
    }
}
