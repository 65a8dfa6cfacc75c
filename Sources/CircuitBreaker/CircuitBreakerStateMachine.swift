import KeelCore

/// The breaker's logic as a value type: it decides whether a call may go, counts what calls did,
/// and moves between states. The ``CircuitBreaker`` shell keeps it under a lock and reads the clock.
///
/// Every state change starts a new epoch. A call carries the epoch it was let through in; its
/// outcome counts in the totals but changes the state only when the epoch is still the same (a
/// call admitted while closed that fails after the breaker opened does not re-open it).
///
/// Times are nanoseconds since the breaker was created, so the machine is not generic over the clock
/// (a generic one costs a metadata lookup per call where it is not specialised).
@usableFromInline
struct CircuitBreakerStateMachine: Sendable {
    enum Phase: Sendable {
        case closed
        case open(until: Int64)
        case halfOpen(inFlight: Int, successes: Int)
        case forcedOpen
        case disabled
    }

    /// What a finished call did.
    @usableFromInline
    enum Outcome: Sendable {
        case success
        case failure
        /// An ignored error or a cancellation: neither success nor failure.
        case ignored
    }

    /// The answer to a call that asks to go.
    enum Permission: Sendable {
        case permitted(epoch: Int)
        case rejected(CircuitBreakerError)
    }

    let configuration: CircuitBreakerConfiguration
    private(set) var phase = Phase.closed
    private(set) var epoch = 0
    private var window: CallWindow
    private var currentOpenDuration: Duration
    private(set) var counts = CircuitBreakerStatistics()

    init(configuration: CircuitBreakerConfiguration) {
        self.configuration = configuration
        window = CallWindow(configuration.window)
        currentOpenDuration = configuration.openDuration
    }

    var state: CircuitBreakerState {
        switch phase {
        case .closed: .closed
        case .open: .open
        case .halfOpen: .halfOpen
        case .forcedOpen: .forcedOpen
        case .disabled: .disabled
        }
    }

    /// The metrics at `now`.
    func statistics(at now: Int64?) -> CircuitBreakerStatistics {
        var metrics = counts
        metrics.state = state
        let totals = window.totals(at: now)
        metrics.windowCalls = totals.calls
        metrics.windowFailures = totals.failures
        return metrics
    }

    /// Whether a call may go now; `transition` is set when asking moved the breaker (open to
    /// half-open once the open duration has passed).
    mutating func permit(at now: Int64) -> (Permission, transition: (CircuitBreakerState, CircuitBreakerState)?) {
        switch phase {
        case .closed, .disabled:
            return (.permitted(epoch: epoch), nil)
        case .open(let until):
            guard now >= until else {
                counts.notPermitted += 1
                return (.rejected(.open(remaining: .nanoseconds(until - now))), nil)
            }
            move(to: .halfOpen(inFlight: 1, successes: 0))
            return (.permitted(epoch: epoch), (.open, .halfOpen))
        case .halfOpen(let inFlight, let successes):
            guard inFlight < configuration.halfOpenMaxCalls else {
                counts.notPermitted += 1
                return (.rejected(.halfOpenFull), nil)
            }
            phase = .halfOpen(inFlight: inFlight + 1, successes: successes)
            return (.permitted(epoch: epoch), nil)
        case .forcedOpen:
            counts.notPermitted += 1
            return (.rejected(.open(remaining: nil)), nil)
        }
    }

    /// Counts a finished call that was let through in `epoch` and took `duration` (when timed);
    /// returns the transition it caused. `now` may be `nil` only for a success of an untimed call
    /// in a count window (it is then not needed).
    mutating func record(
        _ outcome: Outcome, epoch callEpoch: Int, duration: Duration?, at now: Int64?
    ) -> (CircuitBreakerState, CircuitBreakerState)? {
        if case .disabled = phase { return nil }
        var outcome = outcome
        switch outcome {
        case .ignored:
            counts.ignored += 1
        case .success, .failure:
            counts.calls += 1
            if let threshold = configuration.slowCallThreshold, let duration, duration > threshold {
                counts.slowCalls += 1
                outcome = .failure
            }
            if case .failure = outcome { counts.failures += 1 } else { counts.successes += 1 }
        }
        guard callEpoch == epoch else { return nil }

        switch phase {
        case .closed:
            let failed: Bool
            switch outcome {
            case .ignored: return nil
            case .success: failed = false
            case .failure: failed = true
            }
            counts.consecutiveFailures = failed ? counts.consecutiveFailures + 1 : 0
            window.record(failure: failed, at: now)
            guard failed else { return nil }
            if let limit = configuration.consecutiveFailures, counts.consecutiveFailures >= limit {
                return trip(at: now, growing: false, from: .closed)
            }
            if let threshold = configuration.failureRateThreshold {
                let totals = window.totals(at: now)
                if totals.calls >= configuration.minimumCalls, Double(totals.failures) >= threshold * Double(totals.calls) {
                    return trip(at: now, growing: false, from: .closed)
                }
            }
            return nil
        case .halfOpen(let inFlight, let successes):
            switch outcome {
            case .ignored:
                phase = .halfOpen(inFlight: inFlight - 1, successes: successes)
                return nil
            case .failure:
                return trip(at: now, growing: true, from: .halfOpen)
            case .success:
                if successes + 1 >= configuration.halfOpenSuccesses {
                    currentOpenDuration = configuration.openDuration
                    move(to: .closed)
                    return (.halfOpen, .closed)
                }
                phase = .halfOpen(inFlight: inFlight - 1, successes: successes + 1)
                return nil
            }
        case .open, .forcedOpen, .disabled:
            return nil
        }
    }

    /// Moves to `state` by hand (reset, force open, disable); returns the transition, if any.
    mutating func force(_ state: CircuitBreakerState, at now: Int64) -> (CircuitBreakerState, CircuitBreakerState)? {
        let from = self.state
        switch state {
        case .closed:
            currentOpenDuration = configuration.openDuration
            move(to: .closed)
        case .forcedOpen: move(to: .forcedOpen)
        case .disabled: move(to: .disabled)
        case .open: move(to: .open(until: now + currentOpenDuration.inNanoseconds))
        case .halfOpen: move(to: .halfOpen(inFlight: 0, successes: 0))
        }
        return from == state ? nil : (from, state)
    }

    /// Applies a state another process's breaker of the same name shared; returns the transition,
    /// if any. A forced or disabled breaker keeps its state; an open one keeps the later deadline.
    mutating func adopt(_ shared: CircuitBreakerSharedState, at now: Int64) -> (CircuitBreakerState, CircuitBreakerState)? {
        let from = state
        switch (shared, phase) {
        case (_, .forcedOpen), (_, .disabled), (.closed, .closed):
            return nil
        case (.open(let remaining), .open(let until)):
            phase = .open(until: max(until, now + remaining.inNanoseconds))
            return nil
        case (.open(let remaining), .closed), (.open(let remaining), .halfOpen):
            counts.sharedOpens += 1
            move(to: .open(until: now + remaining.inNanoseconds))
            return (from, .open)
        case (.closed, .open), (.closed, .halfOpen):
            counts.sharedCloses += 1
            currentOpenDuration = configuration.openDuration
            move(to: .closed)
            return (from, .closed)
        }
    }

    /// What to share after `transition`, made by a call at `now`: an opening with the time it has
    /// left (a call that opens the breaker always has its instant), or a closing.
    func shared(after transition: (CircuitBreakerState, CircuitBreakerState), at now: Int64?) -> CircuitBreakerSharedState? {
        switch (transition.1, phase, now) {
        case (.open, .open(let until), let now?): .open(remaining: .nanoseconds(until - now))
        case (.closed, _, _): .closed
        default: nil
        }
    }

    private mutating func trip(at now: Int64?, growing: Bool, from: CircuitBreakerState) -> (CircuitBreakerState, CircuitBreakerState) {
        // The shell reads the clock for every failure, so a trip always has its instant.
        guard let now else { preconditionFailure("a failure must be recorded with the time") }
        if growing {
            let grown = currentOpenDuration * configuration.openDurationMultiplier
            currentOpenDuration = min(grown, configuration.maxOpenDuration)
        }
        counts.trips += 1
        move(to: .open(until: now + currentOpenDuration.inNanoseconds))
        return (from, .open)
    }

    /// Enters `phase` in a new epoch with an empty window.
    private mutating func move(to phase: Phase) {
        self.phase = phase
        epoch += 1
        window = CallWindow(configuration.window)
        counts.consecutiveFailures = 0
    }
}
