import Foundation
import SQLCore
import Testing

@Suite struct SQLTimestampTests {
    @Test func formatsInUTCWithMicroseconds() {
        #expect(SQLTimestamp.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00:00.000000+00:00")
        #expect(
            SQLTimestamp.string(from: Date(timeIntervalSince1970: 1_700_000_000.123456))
                == "2023-11-14 22:13:20.123456+00:00")
        #expect(SQLTimestamp.string(from: Date(timeIntervalSince1970: -1.5)) == "1969-12-31 23:59:58.500000+00:00")
        #expect(SQLTimestamp.string(from: Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29 00:00:00.000000+00:00")
    }

    @Test(arguments: [0, 1_700_000_000.123456, -86_400.25, 4_102_444_799.999999, 951_782_400])
    func roundTrips(seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        let parsed = try #require(SQLTimestamp.date(from: SQLTimestamp.string(from: date)))
        #expect(abs(parsed.timeIntervalSince(date)) < 0.000_001)
    }

    @Test(arguments: [
        ("2024-01-02 03:04:05+00", 1_704_164_645.0),
        ("2024-01-02T03:04:05Z", 1_704_164_645.0),
        ("2024-01-02 05:04:05+02:00", 1_704_164_645.0),
        ("2024-01-01 22:04:05-0500", 1_704_164_645.0),
        ("2024-01-02 03:04:05.5", 1_704_164_645.5),
        ("2024-01-02 03:04", 1_704_164_640.0),
        ("2024-01-02", 1_704_153_600.0),
    ])
    func parsesTheFormsDatabasesWrite(text: String, seconds: Double) {
        #expect(SQLTimestamp.date(from: text) == Date(timeIntervalSince1970: seconds))
    }

    @Test(arguments: ["", "infinity", "2024-13-01", "2024-01-02 25:00:00", "2024-01-02 03:04:05 BC", "2024-1-2", "2024-01-02 03:04:05."])
    func rejectsEverythingElse(text: String) {
        #expect(SQLTimestamp.date(from: text) == nil)
    }
}
