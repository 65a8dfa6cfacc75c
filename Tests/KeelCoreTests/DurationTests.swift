import KeelCore
import Testing

@Suite struct DurationTests {
    @Test func nanosecondsAreWholeAndSaturate() {
        #expect(Duration.seconds(3).inNanoseconds == 3_000_000_000)
        #expect(Duration.microseconds(-2).inNanoseconds == -2_000)
        #expect((Duration.nanoseconds(5) / 2).inNanoseconds == 2)
        #expect(Duration.seconds(Int64.max).inNanoseconds == Int64.max / 4)
        #expect(Duration.seconds(Int64.min).inNanoseconds == -(Int64.max / 4))
        #expect(Duration.seconds(Int64.max).inNanoseconds &+ Duration.seconds(Int64.max).inNanoseconds > 0)
    }

    @Test func secondsAreFractional() {
        #expect(Duration.milliseconds(1_500).inSeconds == 1.5)
        #expect(Duration.zero.inSeconds == 0)
    }
}
