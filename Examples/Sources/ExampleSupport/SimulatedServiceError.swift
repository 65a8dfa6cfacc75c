/// A call to a ``SimulatedService`` failed.
public struct SimulatedServiceError: Error, CustomStringConvertible {
    /// The service's name.
    public let service: String
    /// Why.
    public let reason: String

    /// `"RPC: unavailable (simulated outage)"`.
    public var description: String { "\(service): \(reason)" }
}
