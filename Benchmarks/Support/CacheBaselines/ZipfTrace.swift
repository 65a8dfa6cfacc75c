import Foundation
import KeelCore

/// Zipf-distributed key ranks (P(rank r) ∝ 1 / r^alpha over `count` ranks), by inverse CDF.
public struct ZipfDistribution: Sendable {
    private let cumulative: [Double]

    public init(count: Int, alpha: Double) {
        var cumulative = [Double](repeating: 0, count: count)
        var total = 0.0
        for rank in 0..<count {
            total += 1 / pow(Double(rank + 1), alpha)
            cumulative[rank] = total
        }
        self.cumulative = cumulative.map { $0 / total }
    }

    /// A rank, 0 for the most popular.
    public func next(using generator: inout some RandomNumberGenerator) -> Int {
        let target = Double.random(in: 0..<1, using: &generator)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// Spreads ranks over the key space, so popular keys are not neighbours ("scrambled" Zipf):
/// SplitMix64's mixing is a bijection, so distinct ranks give distinct keys.
public func scrambled(_ rank: Int) -> Int {
    var generator = SplitMix64(seed: UInt64(rank))
    return Int(truncatingIfNeeded: generator.next())
}
