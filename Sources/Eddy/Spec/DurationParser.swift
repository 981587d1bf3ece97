extension EventDuration {
    /// Microseconds per unit. Units are matched as whole letter runs, so `ms` is never read
    /// as `m` followed by something else, and `1mm` is an unknown unit, not `1m` + `m`.
    private static let unitMicroseconds: [String: Int64] = [
        "us": 1,
        "ms": 1_000,
        "s": 1_000_000,
        "m": 60_000_000,
        "h": 3_600_000_000,
        "d": 86_400_000_000,
        "w": 604_800_000_000,
    ]

    /// Parses a spec duration: one or more `<integer><unit>` parts with units `us`, `ms`,
    /// `s`, `m`, `h`, `d`, `w` (`"90s"`, `"1h30m"`, `"500ms"`, `"0s"`, `"7d"`), summed.
    ///
    /// Returns nil for empty text, signs, fractions, spaces, unknown or missing units, and
    /// totals that overflow Int64 microseconds: a duration that silently wrapped or was
    /// rounded would move window boundaries, so the spec is refused instead.
    /// `text` keeps the input as written, for messages and `eddy plan`.
    public static func parse(_ text: String) -> EventDuration? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        var total: Int64 = 0
        var i = 0
        while i < bytes.count {
            // The number: at least one ASCII digit.
            var amount: Int64 = 0
            let digitsStart = i
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) {
                let (shifted, o1) = amount.multipliedReportingOverflow(by: 10)
                let (next, o2) = shifted.addingReportingOverflow(Int64(bytes[i] - UInt8(ascii: "0")))
                if o1 || o2 { return nil }
                amount = next
                i += 1
            }
            guard i > digitsStart else { return nil }
            // The unit: a run of lowercase ASCII letters that must name a unit exactly.
            let unitStart = i
            while i < bytes.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[i]) { i += 1 }
            let unit = String(decoding: bytes[unitStart..<i], as: UTF8.self)
            guard let scale = unitMicroseconds[unit] else { return nil }
            let (part, o3) = amount.multipliedReportingOverflow(by: scale)
            let (sum, o4) = total.addingReportingOverflow(part)
            if o3 || o4 { return nil }
            total = sum
        }
        return EventDuration(microseconds: total, text: text)
    }
}
