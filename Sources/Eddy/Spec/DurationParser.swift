extension EventDuration {
    private static let units: [(suffix: String, microseconds: Int64)] = [
        ("us", 1), ("ms", 1_000), ("s", 1_000_000), ("m", 60_000_000), ("h", 3_600_000_000),
        ("d", 86_400_000_000), ("w", 604_800_000_000),
    ]

    /// Parses one or more `<integer><unit>` parts: `"90s"`, `"1h30m"`, `"500ms"`, `"7d"`.
    public static func parse(_ text: String) -> EventDuration? {
        let bytes = Array(text.utf8)
        var index = 0
        var total: Int64 = 0
        guard !bytes.isEmpty else { return nil }
        while index < bytes.count {
            var amount: Int64 = 0
            let digitsStart = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                let (times10, overflow1) = amount.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = times10.addingReportingOverflow(Int64(bytes[index] - 48))
                guard !overflow1, !overflow2 else { return nil }
                amount = next
                index += 1
            }
            guard index > digitsStart else { return nil }
            let unitStart = index
            while index < bytes.count, bytes[index] >= 97, bytes[index] <= 122 { index += 1 }
            let suffix = String(decoding: bytes[unitStart..<index], as: UTF8.self)
            guard let unit = units.first(where: { $0.suffix == suffix }) else { return nil }
            let (part, overflow1) = amount.multipliedReportingOverflow(by: unit.microseconds)
            let (sum, overflow2) = total.addingReportingOverflow(part)
            guard !overflow1, !overflow2 else { return nil }
            total = sum
        }
        return EventDuration(microseconds: total, text: text)
    }
}
