import Testing
@testable import Eddy

@Suite struct SpecDurationParsing {
    @Test(arguments: [
        ("90s", Int64(90_000_000)),
        ("1h30m", 5_400_000_000),
        ("500ms", 500_000),
        ("0s", 0),
        ("7d", 604_800_000_000),
        ("2w", 1_209_600_000_000),
        ("250us", 250),
        ("1m30s500ms", 90_500_000),
        ("30m1h", 5_400_000_000),  // parts are summed, whatever their order
    ])
    func parsesValidDurations(text: String, microseconds: Int64) {
        #expect(EventDuration.parse(text) == EventDuration(microseconds: microseconds, text: text))
    }

    @Test(arguments: [
        "", "s", "5", "-5s", "+5s", "1.5s", "5 s", " 5s", "5s ", "5sec", "5S", "5mm", "1h30", "h1",
        "5µs", "１s",
        "9223372036854775808us",  // digits overflow Int64
        "9223372036854775807s",  // overflow when scaled to microseconds
        "106751992d106751992d",  // overflow when summed
    ])
    func rejectsInvalidDurations(text: String) {
        #expect(EventDuration.parse(text) == nil)
    }

    @Test func keepsTheLargestRepresentableDuration() {
        #expect(EventDuration.parse("9223372036854775807us")?.microseconds == Int64.max)
    }
}
