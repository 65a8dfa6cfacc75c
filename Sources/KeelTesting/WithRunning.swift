/// Runs a service for the length of `body`: `run` in a child task, then `body`, then `shutdown`,
/// and waits for `run` to return. What `body` returns or throws is passed on; when it throws, the
/// service is still shut down, `run` is waited for, and an error of `run`'s is then ignored.
///
/// ```swift
/// let database = try PostgresDatabase(configuration: configuration)
/// let count = try await withRunning(database.run, shutdown: database.shutdown) {
///     try await database.query("SELECT count(*) FROM users")[0].decode(Int.self, at: 0)
/// }
/// ```
@discardableResult
public func withRunning<Result: Sendable>(
    _ run: @escaping @Sendable () async throws -> Void, shutdown: () async -> Void,
    _ body: () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await run() }
        let result: Result
        do {
            result = try await body()
        } catch {
            await shutdown()
            try? await group.waitForAll()
            throw error
        }
        await shutdown()
        try await group.waitForAll()
        return result
    }
}
