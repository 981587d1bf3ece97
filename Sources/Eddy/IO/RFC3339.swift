/// RFC 3339 timestamps, for string event-time columns.
public enum RFC3339 {
    /// Microseconds since the Unix epoch for `YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|±HH:MM)`,
    /// or nil if the text is not exactly such a timestamp or a field is out of range.
    ///
    /// Fractions of 1-9 digits are truncated (not rounded) to microseconds, so a timestamp never
    /// moves into the next microsecond. A leap second (`:60`) is rejected: Unix time cannot
    /// represent it, and silently mapping it onto :59 or the next minute would reorder events.
    public static func parseMicroseconds(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let n = bytes.count
        guard n >= 20 else { return nil }
        @inline(__always) func digits(_ at: Int, _ count: Int) -> Int? {
            var v = 0
            for k in at..<(at + count) {
                let d = bytes[k] &- 0x30
                guard d < 10 else { return nil }
                v = v * 10 + Int(d)
            }
            return v
        }
        guard let year = digits(0, 4), bytes[4] == 0x2D,
              let month = digits(5, 2), bytes[7] == 0x2D,
              let day = digits(8, 2),
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == 0x20,
              let hour = digits(11, 2), bytes[13] == 0x3A,
              let minute = digits(14, 2), bytes[16] == 0x3A,
              let second = digits(17, 2)
        else { return nil }
        guard month >= 1 && month <= 12, day >= 1 && day <= daysInMonth(year, month),
              hour <= 23, minute <= 59, second <= 59 else { return nil }
        var i = 19
        var micros = 0
        if bytes[i] == 0x2E {
            i += 1
            let start = i
            while i < n && bytes[i] &- 0x30 < 10 {
                if i - start < 6 { micros = micros * 10 + Int(bytes[i] &- 0x30) }
                i += 1
            }
            let count = i - start
            guard count >= 1 && count <= 9 else { return nil }
            if count < 6 { for _ in count..<6 { micros *= 10 } }
        }
        guard i < n else { return nil }
        var offsetSeconds = 0
        switch bytes[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case 0x2B, 0x2D:
            guard i + 6 == n, let oh = digits(i + 1, 2), bytes[i + 3] == 0x3A, let om = digits(i + 4, 2),
                  oh <= 23, om <= 59 else { return nil }
            offsetSeconds = (oh * 60 + om) * 60
            if bytes[i] == 0x2D { offsetSeconds = -offsetSeconds }
            i += 6
        default:
            return nil
        }
        guard i == n else { return nil }
        let days = daysFromCivil(year, month, day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        return seconds * 1_000_000 + Int64(micros)
    }

    /// Whether `text` is a valid RFC 3339 time but for its seconds being 60 (a leap second),
    /// which `parseMicroseconds` rejects: a message can then say why.
    public static func isLeapSecond<Text: Collection<UInt8>>(_ text: Text) -> Bool {
        var bytes = Array(text)
        guard bytes.count >= 20, bytes[17] == UInt8(ascii: "6"), bytes[18] == UInt8(ascii: "0") else { return false }
        bytes[17] = UInt8(ascii: "5")
        bytes[18] = UInt8(ascii: "9")
        return bytes.withUnsafeBytes { parseMicroseconds($0) } != nil
    }

    public static func format(microseconds: Int64) -> String {
        let (secs, micros) = floorDivide(microseconds, 1_000_000)
        let (days, secOfDay) = floorDivide(secs, 86_400)
        let (y, m, d) = civilFromDays(days)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        if y < 0 { out.append(0x2D) }
        pad(Int(y.magnitude), 4, &out)
        out.append(0x2D); pad(m, 2, &out)
        out.append(0x2D); pad(d, 2, &out)
        out.append(UInt8(ascii: "T"))
        pad(Int(secOfDay / 3600), 2, &out)
        out.append(0x3A); pad(Int(secOfDay / 60 % 60), 2, &out)
        out.append(0x3A); pad(Int(secOfDay % 60), 2, &out)
        if micros != 0 {
            out.append(0x2E)
            if micros % 1000 == 0 { pad(Int(micros / 1000), 3, &out) } else { pad(Int(micros), 6, &out) }
        }
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    static func pad(_ v: Int, _ width: Int, _ out: inout [UInt8]) {
        var digits: [UInt8] = []
        var v = v
        repeat { digits.append(0x30 + UInt8(v % 10)); v /= 10 } while v > 0
        for _ in digits.count..<max(width, digits.count) { out.append(0x30) }
        out.append(contentsOf: digits.reversed())
    }

    @inline(__always)
    static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }

    static func isLeapYear(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: isLeapYear(y) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int64, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (y, m, d)
    }
}
