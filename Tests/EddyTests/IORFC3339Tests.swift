import Testing
@testable import Eddy

private func micros(_ text: String) -> Int64? {
    withBytes(text) { RFC3339.parseMicroseconds($0) }
}

@Test func parsesUTCTimestamps() {
    #expect(micros("1970-01-01T00:00:00Z") == 0)
    #expect(micros("2023-11-14T22:13:20Z") == 1_700_000_000_000_000)
    #expect(micros("2023-11-14t22:13:20z") == 1_700_000_000_000_000)
    #expect(micros("2023-11-14 22:13:20Z") == 1_700_000_000_000_000)
    #expect(micros("1969-12-31T23:59:59Z") == -1_000_000)
    #expect(micros("0001-01-01T00:00:00Z") == -62_135_596_800_000_000)
    #expect(micros("9999-12-31T23:59:59Z") == 253_402_300_799_000_000)
}

@Test func appliesOffsets() {
    #expect(micros("2023-11-14T23:13:20+01:00") == 1_700_000_000_000_000)
    #expect(micros("2023-11-14T17:43:20-04:30") == 1_700_000_000_000_000)
    #expect(micros("1970-01-01T00:00:00+00:01") == -60_000_000)
    #expect(micros("1970-01-01T00:00:00-00:00") == 0)
}

@Test func truncatesFractionsToMicroseconds() {
    #expect(micros("1970-01-01T00:00:00.5Z") == 500_000)
    #expect(micros("1970-01-01T00:00:00.123Z") == 123_000)
    #expect(micros("1970-01-01T00:00:00.123456Z") == 123_456)
    #expect(micros("1970-01-01T00:00:00.1234567Z") == 123_456)
    #expect(micros("1970-01-01T00:00:00.999999999Z") == 999_999)
    #expect(micros("1969-12-31T23:59:59.25Z") == -750_000)
    #expect(micros("1970-01-01T00:00:00.1234567890Z") == nil)
    #expect(micros("1970-01-01T00:00:00.Z") == nil)
}

@Test func validatesCalendarRanges() {
    #expect(micros("2024-02-29T00:00:00Z") != nil)
    #expect(micros("2000-02-29T00:00:00Z") != nil)
    #expect(micros("2023-02-29T00:00:00Z") == nil)
    #expect(micros("1900-02-29T00:00:00Z") == nil)
    #expect(micros("2023-04-31T00:00:00Z") == nil)
    #expect(micros("2023-12-31T00:00:00Z") != nil)
    for bad in ["2023-00-10T00:00:00Z", "2023-13-10T00:00:00Z", "2023-01-00T00:00:00Z", "2023-01-32T00:00:00Z",
                "2023-01-01T24:00:00Z", "2023-01-01T00:60:00Z", "2023-12-31T23:59:60Z",
                "2023-01-01T00:00:00+24:00", "2023-01-01T00:00:00+01:60"] {
        #expect(micros(bad) == nil, "\(bad)")
    }
}

@Test func rejectsMalformedText() {
    for bad in ["", "2023-11-14", "2023-11-14T22:13:20", "2023-11-14T22:13:20+0100", "2023-11-14T22:13:20+01",
                "2023/11/14T22:13:20Z", "2023-11-14X22:13:20Z", "23-11-14T22:13:20Z", "2023-1-14T22:13:20Z",
                "2023-11-14T22:13:20Z ", " 2023-11-14T22:13:20Z", "2023-11-14T22:13:20ZZ", "+023-11-14T22:13:20Z",
                "2023-11-14T22:13:2aZ"] {
        #expect(micros(bad) == nil, "\(bad)")
    }
}

@Test func formatsWithOptionalFraction() {
    #expect(RFC3339.format(microseconds: 1_700_000_000_000_000) == "2023-11-14T22:13:20Z")
    #expect(RFC3339.format(microseconds: 1_700_000_000_123_000) == "2023-11-14T22:13:20.123Z")
    #expect(RFC3339.format(microseconds: 1_700_000_000_123_456) == "2023-11-14T22:13:20.123456Z")
    #expect(RFC3339.format(microseconds: 1_000) == "1970-01-01T00:00:00.001Z")
    #expect(RFC3339.format(microseconds: -750_000) == "1969-12-31T23:59:59.250Z")
    #expect(RFC3339.format(microseconds: 0) == "1970-01-01T00:00:00Z")
    #expect(RFC3339.format(microseconds: 951_782_400_000_000) == "2000-02-29T00:00:00Z")
}

@Test func formatAndParseRoundTrip() {
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<2000 {
        let v = Int64.random(in: -62_135_596_800_000_000...253_402_300_799_999_999, using: &rng)
        #expect(micros(RFC3339.format(microseconds: v)) == v)
    }
}

@Test func leapSecondsAreRecognisedToExplainTheirRejection() {
    #expect(micros("2016-12-31T23:59:60Z") == nil)
    #expect(RFC3339.isLeapSecond(Array("2016-12-31T23:59:60Z".utf8)))
    #expect(RFC3339.isLeapSecond(Array("2016-12-31T23:59:60.5+01:00".utf8)))
    #expect(!RFC3339.isLeapSecond(Array("2016-12-31T23:59:59Z".utf8)))
    #expect(!RFC3339.isLeapSecond(Array("2016-12-31T23:59:61Z".utf8)))
    #expect(!RFC3339.isLeapSecond(Array("2016-13-31T23:59:60Z".utf8)))
}
