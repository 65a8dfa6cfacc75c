extension Sequence where Element: Sendable {
    /// Transforms every element with at most `maxConcurrency` transforms running at once (a
    /// bounded worker pool), results in input order. The first error cancels
    /// the transforms still running and is thrown; cancelling the caller cancels them all.
    ///
    /// ```swift
    /// let balances = try await chains.concurrentMap(maxConcurrency: 10) { chain in
    ///     try await rpc.balance(of: wallet, on: chain)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - maxConcurrency: The most transforms at once; at least 1.
    ///   - limiter: When given, each transform runs inside `limiter.withPermit` (a `RateLimiter`,
    ///     or any other ``PermitLimiting``, such as RedisRateLimit's fleet-wide limiters).
    ///   - transform: The work for one element.
    public func concurrentMap<Transformed: Sendable, Limiter: PermitLimiting>(
        maxConcurrency: Int,
        limiter: Limiter?,
        _ transform: @escaping @Sendable (Element) async throws -> Transformed
    ) async throws -> [Transformed] {
        let results = try await concurrentResults(maxConcurrency: maxConcurrency, limiter: limiter, failFast: true, transform)
        return try results.map { try $0.get() }
    }

    /// ``concurrentMap(maxConcurrency:limiter:_:)`` without a limiter.
    public func concurrentMap<Transformed: Sendable>(
        maxConcurrency: Int, _ transform: @escaping @Sendable (Element) async throws -> Transformed
    ) async throws -> [Transformed] {
        try await concurrentMap(maxConcurrency: maxConcurrency, limiter: RateLimiter<ContinuousClock>?.none, transform)
    }

    /// Like ``concurrentMap(maxConcurrency:limiter:_:)`` but runs every element and returns each
    /// one's result, errors included, in input order.
    ///
    /// #### Errors
    /// Only `CancellationError`, when the caller is cancelled: a partial list would look complete.
    public func concurrentMapResults<Transformed: Sendable, Limiter: PermitLimiting>(
        maxConcurrency: Int,
        limiter: Limiter? = RateLimiter<ContinuousClock>?.none,
        _ transform: @escaping @Sendable (Element) async throws -> Transformed
    ) async throws -> [Result<Transformed, any Error>] {
        try await concurrentResults(maxConcurrency: maxConcurrency, limiter: limiter, failFast: false, transform)
    }

    /// Runs `body` for every element with at most `maxConcurrency` at once; the first error
    /// cancels the rest and is thrown.
    public func concurrentForEach(
        maxConcurrency: Int, _ body: @escaping @Sendable (Element) async throws -> Void
    ) async throws {
        _ = try await concurrentMap(maxConcurrency: maxConcurrency, body)
    }

    private func concurrentResults<Transformed: Sendable, Limiter: PermitLimiting>(
        maxConcurrency: Int,
        limiter: Limiter?,
        failFast: Bool,
        _ transform: @escaping @Sendable (Element) async throws -> Transformed
    ) async throws -> [Result<Transformed, any Error>] {
        precondition(maxConcurrency >= 1, "maxConcurrency must be at least 1, not \(maxConcurrency)")
        var results: [Result<Transformed, any Error>?] = []
        try await withThrowingTaskGroup(of: (Int, Result<Transformed, any Error>).self) { group in
            var iterator = enumerated().makeIterator()
            func startNext() -> Bool {
                guard let (index, element) = iterator.next() else { return false }
                results.append(nil)
                group.addTask {
                    do {
                        let value =
                            if let limiter {
                                try await limiter.withPermit(isolation: nil) { try await transform(element) }
                            } else {
                                try await transform(element)
                            }
                        return (index, .success(value))
                    } catch {
                        return (index, .failure(error))
                    }
                }
                return true
            }
            var running = 0
            while running < maxConcurrency, startNext() { running += 1 }
            while let (index, result) = try await group.next() {
                if failFast, case .failure(let error) = result {
                    group.cancelAll()
                    throw error
                }
                results[index] = result
                if !startNext() { running -= 1 }
            }
        }
        try Task.checkCancellation()
        return results.map { $0! }
    }
}
