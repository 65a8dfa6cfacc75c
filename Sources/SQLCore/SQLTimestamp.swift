#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Converts dates to and from the text form both PostgreSQL and SQLite understand:
/// `2024-01-02 03:04:05.123456+00:00`, always in UTC, with microsecond precision.
///
/// Backends that exchange timestamps as text use it, and ``SQLRow`` uses it to decode a
/// `Date` from a text column. The text sorts in time order, so SQLite can compare and
/// index it. It needs no `DateFormatter`, no locale and no allocation beyond the result.
public enum SQLTimestamp {
    /// The text form of `date` in UTC with six fractional digits.
    ///
    /// Years outside 1...9999 are clamped to that range (neither database stores more).
    public static func string(from date: Date) -> String {
        let lowest: Int64 = -62_135_596_800_000_000  // 0001-01-01 00:00:00
        let highest: Int64 = 253_402_300_799_999_999  // 9999-12-31 23:59:59.999999
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let totalMicros: Int64 =
            if micros.isNaN || micros <= Double(lowest) { lowest }
            else if micros >= Double(highest) { highest }
            else { Int64(micros) }
        var seconds = totalMicros / 1_000_000
        var fraction = totalMicros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civilDate(fromDaysSinceEpoch: days)

        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        func append(_ value: Int64, digits: Int) {
            var divisor: Int64 = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        append(year, digits: 4)
        bytes.append(UInt8(ascii: "-"))
        append(month, digits: 2)
        bytes.append(UInt8(ascii: "-"))
        append(day, digits: 2)
        bytes.append(UInt8(ascii: " "))
        append(secondOfDay / 3600, digits: 2)
        bytes.append(UInt8(ascii: ":"))
        append(secondOfDay / 60 % 60, digits: 2)
        bytes.append(UInt8(ascii: ":"))
        append(secondOfDay % 60, digits: 2)
        bytes.append(UInt8(ascii: "."))
        append(fraction, digits: 6)
        bytes.append(contentsOf: "+00:00".utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses `YYYY-MM-DD`, optionally followed by `T` or a space and `HH:MM[:SS[.fraction]]`,
    /// optionally followed by `Z`, `+HH`, `+HHMM` or `+HH:MM` (or `-`). Without a zone the
    /// time is taken as UTC. Returns `nil` for anything else, including PostgreSQL's
    /// `infinity` and `BC` dates.
    public static func date(from text: String) -> Date? {
        var utf8 = text.utf8[...]
        func number(_ digits: Int) -> Int64? {
            guard utf8.count >= digits else { return nil }
            var value: Int64 = 0
            for _ in 0..<digits {
                let byte = utf8.removeFirst()
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func skip(_ character: Unicode.Scalar) -> Bool {
            guard utf8.first == UInt8(ascii: character) else { return false }
            utf8.removeFirst()
            return true
        }

        guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }

        var secondOfDay: Int64 = 0
        var micros: Int64 = 0
        if skip("T") || skip("t") || skip(" ") {
            guard let hour = number(2), skip(":"), let minute = number(2), hour < 24, minute < 60 else { return nil }
            var second: Int64 = 0
            if skip(":") {
                guard let value = number(2), value < 61 else { return nil }
                second = value
                if skip(".") {
                    var scale: Int64 = 100_000
                    var sawDigit = false
                    while let byte = utf8.first, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                        utf8.removeFirst()
                        sawDigit = true
                        micros += Int64(byte - UInt8(ascii: "0")) * scale
                        scale /= 10
                    }
                    guard sawDigit else { return nil }
                }
            }
            secondOfDay = hour * 3600 + minute * 60 + second
        }

        var offsetSeconds: Int64 = 0
        if skip("Z") || skip("z") {
        } else if let sign = utf8.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            utf8.removeFirst()
            guard let hours = number(2) else { return nil }
            var minutes: Int64 = 0
            if skip(":") {
                guard let value = number(2) else { return nil }
                minutes = value
            } else if utf8.count == 2 {
                guard let value = number(2) else { return nil }
                minutes = value
            }
            offsetSeconds = (hours * 3600 + minutes * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        }
        guard utf8.isEmpty else { return nil }

        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + secondOfDay - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    static func civilDate(fromDaysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
