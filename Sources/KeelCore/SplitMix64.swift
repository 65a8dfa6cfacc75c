/// A small, fast, seedable random number generator (Steele, Lea and Flood's SplitMix64): where a
/// state machine's jitter, or a test's input, must be the same for the same seed.
///
/// ```swift
/// var random = SplitMix64(seed: 42)
/// let jitter = random.nextUnit()   // in 0..<1, the same every run
/// ```
public struct SplitMix64: RandomNumberGenerator, Sendable {
    @usableFromInline var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in `0..<1`.
    @inlinable
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
