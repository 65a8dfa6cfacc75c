/// A technical indicator computed from closing prices: the exponential moving average and the
/// relative strength index.
public struct Indicator: Sendable, Hashable, Codable {
    /// The EMA of the closes.
    public var ema: Double
    /// The RSI, 0...100.
    public var rsi: Double

    /// EMA over `emaPeriod` and RSI over `rsiPeriod` of `closes` (oldest first).
    public init(closes: [Double], emaPeriod: Int = 20, rsiPeriod: Int = 14) {
        let smoothing = 2 / Double(emaPeriod + 1)
        ema = closes.dropFirst().reduce(closes.first ?? 0) { $0 + smoothing * ($1 - $0) }
        var gains = 0.0
        var losses = 0.0
        for (previous, current) in zip(closes.suffix(rsiPeriod + 1), closes.suffix(rsiPeriod)) {
            let change = current - previous
            if change > 0 { gains += change } else { losses -= change }
        }
        rsi = losses == 0 ? 100 : 100 - 100 / (1 + gains / losses)
    }
}
