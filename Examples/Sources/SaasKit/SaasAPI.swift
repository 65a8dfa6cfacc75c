import ExampleSupport
public import Hummingbird
public import Logging
public import SQLCore
public import ServiceLifecycle

/// saas-api: the Elite Creatif leads and campaigns API (reference 004) on Hummingbird and Keel.
///
/// ```swift
/// let limits = try RequestRateLimits(name: "saas-api", rate: 50, burst: 100, redis: nil)
/// let api = try SaasAPI(database: database, slowRequestThreshold: .milliseconds(500), requestLimits: limits, logger: logger)
/// try await api.store.migrate()
/// try await api.application(port: 8081, logger: logger).runService()
/// ```
public struct SaasAPI: Sendable {
    /// The tables.
    public let store: SaasStore
    /// Requests slower than this are logged (`SLOW_REQUEST_MS`).
    public let slowRequestThreshold: Duration
    /// Development mode logs every request.
    public let logsEveryRequest: Bool
    /// How long a request's body may take to arrive in all (`HTTP_BODY_TIMEOUT_SECS`): a body
    /// trickled slowly enough to dodge the idle timeout is cut off with a 408.
    public let bodyTimeout: Duration
    /// Each client address's request limit (the API has no users).
    public let requestLimits: RequestRateLimits
    let publishDatabaseMetrics: @Sendable () -> Void
    let logger: Logger

    /// An API on `database`, each client address limited by `requestLimits`;
    /// `publishDatabaseMetrics` runs before each `/metrics` answer.
    public init(
        database: any SQLDatabase, slowRequestThreshold: Duration, logsEveryRequest: Bool = false, bodyTimeout: Duration = ExampleServer.defaultBodyTimeout,
        requestLimits: RequestRateLimits, publishDatabaseMetrics: @escaping @Sendable () -> Void = {}, logger: Logger
    ) throws {
        store = try SaasStore(database: database)
        self.slowRequestThreshold = slowRequestThreshold
        self.logsEveryRequest = logsEveryRequest
        self.bodyTimeout = bodyTimeout
        self.requestLimits = requestLimits
        self.publishDatabaseMetrics = publishDatabaseMetrics
        self.logger = logger
    }

    /// The routes, each request traced (a span per request, its statements' spans inside),
    /// counted and timed in the metrics, and limited per client address.
    public func router() -> Router<SaasContext> {
        let router = Router(context: SaasContext.self)
        router.add(middleware: TracingMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: BodyDeadlineMiddleware(timeout: bodyTimeout))
        router.add(middleware: SlowRequestMiddleware(threshold: slowRequestThreshold, logsEveryRequest: logsEveryRequest, logger: logger))
        router.add(
            middleware: RequestRateLimitMiddleware(limits: requestLimits) { _, context in
                context.remoteAddress?.ipAddress.map { .address($0) }
            })
        let store = store
        router.get("health") { _, _ -> String in
            _ = try await store.database.query("SELECT 1")
            return "ok"
        }
        router.get("metrics") { [publishDatabaseMetrics] _, _ -> Response in
            ExampleMetrics.response {
                publishDatabaseMetrics()
                store.publishMetrics()
            }
        }

        let leads = router.group("leads")
        leads.get { request, _ in try await store.leads(PageRequest(request)) }
        leads.post { request, context -> EditedResponse<Lead> in
            let input = try await request.decode(as: LeadInput.self, context: context).normalized
            if let problem = input.problem { throw HTTPError(.badRequest, message: problem) }
            guard let lead = try await store.createLead(input) else {
                throw HTTPError(.conflict, message: "a lead with this email exists")
            }
            return EditedResponse(status: .created, response: lead)
        }
        leads.post("upload") { request, context in try await LeadImport.run(request, context: context, store: store) }
        leads.get(":id") { _, context -> Lead in
            let id = try context.parameters.require("id", as: Int64.self)
            guard let lead = try await store.lead(id) else { throw HTTPError(.notFound, message: "no lead \(id)") }
            return lead
        }
        leads.put(":id") { request, context -> Lead in
            let id = try context.parameters.require("id", as: Int64.self)
            let input = try await request.decode(as: LeadInput.self, context: context).normalized
            if let problem = input.problem { throw HTTPError(.badRequest, message: problem) }
            do {
                guard let lead = try await store.updateLead(id, input) else { throw HTTPError(.notFound, message: "no lead \(id)") }
                return lead
            } catch let error as HTTPError {
                throw error
            } catch {
                throw HTTPError(.conflict, message: "a lead with this email exists")
            }
        }
        leads.delete(":id") { _, context -> HTTPResponse.Status in
            let id = try context.parameters.require("id", as: Int64.self)
            guard try await store.deleteLead(id) else { throw HTTPError(.notFound, message: "no lead \(id)") }
            return .noContent
        }

        let campaigns = router.group("campaigns")
        campaigns.get { request, _ in try await store.campaigns(PageRequest(request)) }
        campaigns.post { request, context -> EditedResponse<Campaign> in
            let input = try await request.decode(as: CampaignInput.self, context: context).normalized
            if let problem = input.problem { throw HTTPError(.badRequest, message: problem) }
            return EditedResponse(status: .created, response: try await store.createCampaign(input))
        }
        campaigns.get(":id") { _, context -> Campaign in
            let id = try context.parameters.require("id", as: Int64.self)
            guard let campaign = try await store.campaign(id) else { throw HTTPError(.notFound, message: "no campaign \(id)") }
            return campaign
        }
        campaigns.put(":id") { request, context -> Campaign in
            let id = try context.parameters.require("id", as: Int64.self)
            let input = try await request.decode(as: CampaignInput.self, context: context).normalized
            if let problem = input.problem { throw HTTPError(.badRequest, message: problem) }
            guard let campaign = try await store.updateCampaign(id, input) else { throw HTTPError(.notFound, message: "no campaign \(id)") }
            return campaign
        }
        campaigns.delete(":id") { _, context -> HTTPResponse.Status in
            let id = try context.parameters.require("id", as: Int64.self)
            guard try await store.deleteCampaign(id) else { throw HTTPError(.notFound, message: "no campaign \(id)") }
            return .noContent
        }

        router.get("notifications/stream") { request, _ -> Response in
            try NotificationStream(request, store: store).response()
        }
        router.get("notifications") { request, _ -> NotificationList in
            let since = try PageRequest.number(
                request.uri.queryParameters["since"].map(String.init), default: 0, range: 0...Int.max, name: "since")
            return NotificationList(notifications: try await store.notifications(since: Int64(since)))
        }
        return router
    }

    /// The Hummingbird application on `host:port` with `eventLoopGroup`, running `services` (the
    /// database) and the notification feed alongside as services of their own: they start with
    /// it, and on shutdown the server stops first (ending the notification streams), then they
    /// do. The schema is migrated before the server starts accepting requests. A connection that
    /// sends nothing, or trickles a request's headers or body, for `idleTimeout` is closed.
    public func application(
        host: String = "127.0.0.1", port: Int, eventLoopGroup: EventLoopGroupProvider = .singleton,
        services: [any Service] = [], idleTimeout: Duration = ExampleServer.defaultIdleTimeout, logger: Logger
    ) -> some ApplicationProtocol {
        var application = Application(
            router: router(), server: ExampleServer.http1(idleTimeout: idleTimeout),
            configuration: .init(address: .hostname(host, port: port), serverName: "saas-api"),
            services: services + [store.feed], eventLoopGroupProvider: eventLoopGroup, logger: logger)
        application.beforeServerStarts { [store] in
            let report = try await store.migrate()
            logger.info("Database schema: \(report)")
        }
        return application
    }
}
