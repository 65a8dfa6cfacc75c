import Batching
import ExampleSupport
import Cache
import Foundation
public import Migrations
public import SQLCore

/// saas-api's tables and queries, on PostgreSQL or SQLite.
public struct SaasStore: Sendable {
    /// The database.
    public let database: any SQLDatabase
    /// Row counts of the paginated tables, for the `total` of a page: invalidated by every write
    /// this API makes, and kept at most 5 s (for writes from elsewhere).
    let counts: Cache<String, Int, ContinuousClock>

    /// Wakes the notification streams after each change.
    public let feed: NotificationFeed

    /// Sends the count cache's statistics to its metrics (`keel_cache_…`), for `/metrics`.
    public func publishMetrics() {
        counts.publishMetrics()
    }

    /// A store on `database`.
    public init(database: any SQLDatabase) throws {
        counts = try Cache(configuration: CacheConfiguration(maximumCapacity: 16, timeToLive: .seconds(5)), name: "saas-api-counts")
        self.database = database
        feed = NotificationFeed(database: database)
    }

    /// The schema's steps, applied by ``migrate()``.
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "leads, campaigns, notifications") { dialect in
            let identity = dialect.identityPrimaryKey
            return [
                """
                CREATE TABLE saas_leads (id \(identity), email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
                  company TEXT, status TEXT NOT NULL)
                """,
                "CREATE TABLE saas_campaigns (id \(identity), name TEXT NOT NULL, subject TEXT NOT NULL, status TEXT NOT NULL)",
                "CREATE TABLE saas_notifications (id \(identity), kind TEXT NOT NULL, message TEXT NOT NULL)",
            ]
        },
    ]

    /// Brings the tables up to date with Keel's migrator (its table: `saas_schema_migrations`).
    @discardableResult
    public func migrate() async throws -> MigrationReport {
        try await Migrator(Self.migrations, table: "saas_schema_migrations").migrate(database)
    }

    /// Empties the tables.
    public func reset() async throws {
        for table in ["saas_leads", "saas_campaigns", "saas_notifications"] {
            try await database.execute("DELETE FROM \(identifier: table)")
        }
        counts.removeAll()
    }

    // MARK: Leads

    static let leadColumns = "id, email, name, company, status"

    static func lead(_ row: SQLRow) throws -> Lead {
        Lead(
            id: try row.decode(Int64.self, at: 0), email: try row.decode(String.self, at: 1), name: try row.decode(String.self, at: 2),
            company: try row.decode(String?.self, at: 3), status: try row.decode(String.self, at: 4))
    }

    /// A page of leads by id, with the total. The total comes from ``counts`` (a cache this API's
    /// writes invalidate, expiring after 5 s for writes from elsewhere), so a page is one query.
    public func leads(_ request: PageRequest) async throws -> Page<Lead> {
        // The total first: a cache hit returns without suspending, cheaper than a child task.
        let total = try await count("saas_leads")
        let rows = try await database.query(
            "SELECT \(unsafeRaw: Self.leadColumns) FROM saas_leads ORDER BY id LIMIT \(request.limit) OFFSET \(request.offset)")
        return Page(items: try rows.map(Self.lead), total: total, page: request.page, limit: request.limit)
    }

    /// The rows of `table`, from the count cache or one `count(*)` shared by concurrent callers.
    func count(_ table: String) async throws -> Int {
        let database = database
        return try await counts.value(for: table) {
            try await database.query("SELECT count(*) FROM \(identifier: table)")[0].decode(Int.self, at: 0)
        }
    }

    /// The lead `id`.
    public func lead(_ id: Int64) async throws -> Lead? {
        try await database.query("SELECT \(unsafeRaw: Self.leadColumns) FROM saas_leads WHERE id = \(id)").first.map(Self.lead)
    }

    /// Creates a lead; `nil` when its email is taken.
    public func createLead(_ input: LeadInput) async throws -> Lead? {
        defer {
            counts.removeValue(for: "saas_leads")
            feed.wake()
        }
        return try await database.transaction { db in
            let rows = try await db.query("""
                INSERT INTO saas_leads (email, name, company, status) VALUES (\(input.email), \(input.name), \(input.company), \(input.status ?? "new"))
                ON CONFLICT (email) DO NOTHING RETURNING \(unsafeRaw: Self.leadColumns)
                """)
            guard let row = rows.first else { return nil }
            let lead = try Self.lead(row)
            try await Self.notify(db, "lead.created", "lead \(lead.id) created")
            return lead
        }
    }

    /// Replaces lead `id`; `nil` when missing. Throws when the new email is another lead's.
    public func updateLead(_ id: Int64, _ input: LeadInput) async throws -> Lead? {
        try await database.query("""
            UPDATE saas_leads SET email = \(input.email), name = \(input.name), company = \(input.company), status = \(input.status ?? "new")
            WHERE id = \(id) RETURNING \(unsafeRaw: Self.leadColumns)
            """).first.map(Self.lead)
    }

    /// Deletes lead `id`; whether it existed.
    public func deleteLead(_ id: Int64) async throws -> Bool {
        defer { counts.removeValue(for: "saas_leads") }
        return try await database.execute("DELETE FROM saas_leads WHERE id = \(id)") == 1
    }

    /// How many leads exist.
    public func leadCount() async throws -> Int {
        try await database.query("SELECT count(*) FROM saas_leads")[0].decode(Int.self, at: 0)
    }

    /// Upserts `rows` (email, name, company) by email in chunks of 100, all in one transaction, and
    /// returns how many were created and how many updated, as the statements counted them:
    /// PostgreSQL's upserts say which rows they inserted (`xmax = 0`); on SQLite, which runs one
    /// write transaction at a time, the rows the table gained within the transaction are the ones
    /// created. Writes of other sessions meanwhile never enter either count.
    public func importLeads(_ rows: [[SQLValue]]) async throws -> (inserted: Int, updated: Int) {
        defer {
            counts.removeValue(for: "saas_leads")
            feed.wake()
        }
        return try await database.transaction { db in
            let countsInserts = db.dialect.supports(.insertFlag)
            let before = countsInserts ? 0 : try await db.query("SELECT count(*) FROM saas_leads")[0].decode(Int.self, at: 0)
            var upsert = Upsert(table: "saas_leads", columns: ["email", "name", "company", "status"], conflictColumns: ["email"])
            upsert.action = .update(["name", "company"])
            upsert.usesFastPath = false
            let report = try await upsert.run(rows.map { $0 + [.text("new")] }, on: db)
            let inserted: Int
            if countsInserts, let counted = report.inserted {
                inserted = counted
            } else {
                inserted = try await db.query("SELECT count(*) FROM saas_leads")[0].decode(Int.self, at: 0) - before
            }
            let updated = report.updated ?? report.rowsCommitted - inserted
            try await Self.notify(db, "leads.imported", "\(rows.count) leads imported, \(inserted) new")
            return (inserted, updated)
        }
    }

    // MARK: Campaigns

    static func campaign(_ row: SQLRow) throws -> Campaign {
        Campaign(
            id: try row.decode(Int64.self, at: 0), name: try row.decode(String.self, at: 1), subject: try row.decode(String.self, at: 2),
            status: try row.decode(String.self, at: 3))
    }

    /// A page of campaigns by id, with the total (as ``leads(_:)``).
    public func campaigns(_ request: PageRequest) async throws -> Page<Campaign> {
        let total = try await count("saas_campaigns")
        let rows = try await database.query(
            "SELECT id, name, subject, status FROM saas_campaigns ORDER BY id LIMIT \(request.limit) OFFSET \(request.offset)")
        return Page(items: try rows.map(Self.campaign), total: total, page: request.page, limit: request.limit)
    }

    /// The campaign `id`.
    public func campaign(_ id: Int64) async throws -> Campaign? {
        try await database.query("SELECT id, name, subject, status FROM saas_campaigns WHERE id = \(id)").first.map(Self.campaign)
    }

    /// Creates a campaign.
    public func createCampaign(_ input: CampaignInput) async throws -> Campaign {
        let campaign = try await database.transaction { db in
            let row = try await db.query("""
                INSERT INTO saas_campaigns (name, subject, status) VALUES (\(input.name), \(input.subject), \(input.status ?? "draft"))
                RETURNING id, name, subject, status
                """)[0]
            let campaign = try Self.campaign(row)
            try await Self.notify(db, "campaign.created", "campaign \(campaign.id) created")
            return campaign
        }
        counts.removeValue(for: "saas_campaigns")
        feed.wake()
        return campaign
    }

    /// Replaces campaign `id`; `nil` when missing.
    public func updateCampaign(_ id: Int64, _ input: CampaignInput) async throws -> Campaign? {
        try await database.query("""
            UPDATE saas_campaigns SET name = \(input.name), subject = \(input.subject), status = \(input.status ?? "draft")
            WHERE id = \(id) RETURNING id, name, subject, status
            """).first.map(Self.campaign)
    }

    /// Deletes campaign `id`; whether it existed.
    public func deleteCampaign(_ id: Int64) async throws -> Bool {
        defer { counts.removeValue(for: "saas_campaigns") }
        return try await database.execute("DELETE FROM saas_campaigns WHERE id = \(id)") == 1
    }

    // MARK: Notifications

    /// Notifications after `since`, oldest first, at most `limit`.
    public func notifications(since: Int64, limit: Int = 100) async throws -> [NotificationItem] {
        try await database.query(
            "SELECT id, kind, message FROM saas_notifications WHERE id > \(since) ORDER BY id LIMIT \(Int64(limit))"
        ).map { row in
            NotificationItem(id: try row.decode(Int64.self, at: 0), kind: try row.decode(String.self, at: 1), message: try row.decode(String.self, at: 2))
        }
    }

    /// Adds a notification in `database`'s transaction; on PostgreSQL it also notifies
    /// ``NotificationFeed/channel``, which listeners hear once the transaction commits.
    static func notify(_ database: any SQLDatabase, _ kind: String, _ message: String) async throws {
        try await database.execute("INSERT INTO saas_notifications (kind, message) VALUES (\(kind), \(message))")
        if database.dialect == .postgres {
            try await database.execute("SELECT pg_notify(\(NotificationFeed.channel), '')")
        }
    }
}
