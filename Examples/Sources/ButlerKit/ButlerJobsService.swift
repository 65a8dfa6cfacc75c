import ExampleSupport
import Logging
public import ServiceLifecycle

/// Runs crypto-butler's jobs at start and then every interval, as a swift-service-lifecycle
/// `Service` next to the HTTP server. A failed run is logged and the next one goes on.
public struct ButlerJobsService: Service {
    let jobs: ButlerJobs
    let interval: Duration?
    let logger: Logger

    /// A service running `butler`'s jobs every `interval` (once when `nil`).
    public init(butler: Butler, logger: Logger) {
        jobs = butler.jobs
        interval = butler.configuration.jobsInterval
        self.logger = logger
    }

    /// Runs until cancelled or the service group shuts down gracefully; then returns without an
    /// error, so a `SIGTERM` ends the process with status 0.
    public func run() async throws {
        repeat {
            let start = ContinuousClock.now
            do {
                try await jobs.runAll()
                let elapsed = ContinuousClock.now - start
                logger.info("jobs ran (prices, rankings, contracts, balances) in \(elapsed.formattedMilliseconds)")
            } catch is CancellationError {
                return
            } catch {
                logger.error("jobs failed: \(error)")
            }
            guard let interval else { break }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch is CancellationError {
                return  // a graceful shutdown ends the wait: the service is done, not failed
            }
        } while !Task.isCancelled
    }
}
