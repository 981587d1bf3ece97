import Testing
@testable import Eddy

/// One key, four events: a double, a null, integers; the third event's value is null.
private let sequence = events([(1000, "5"), (2000, "3.5"), (3000, "null"), (4000, "8")])

struct OperatorCase: Sendable, CustomTestStringConvertible {
    var op: FeatureOperator
    var field: String? = "v"
    var limit: Int? = nil
    var unbounded: [String]
    /// With a 1500 ms lookback: [t - 1500, t].
    var windowed: [String]
    var testDescription: String { "\(op.rawValue)(\(field ?? "*"))" }
}

private let cases: [OperatorCase] = [
    OperatorCase(op: .count, field: nil, unbounded: ["1", "2", "3", "4"], windowed: ["1", "2", "2", "2"]),
    OperatorCase(op: .count, unbounded: ["1", "2", "2", "3"], windowed: ["1", "2", "1", "1"]),
    OperatorCase(op: .sum, unbounded: ["5", "8.5", "8.5", "16.5"], windowed: ["5", "8.5", "3.5", "8"]),
    OperatorCase(op: .min, unbounded: ["5", "3.5", "3.5", "3.5"], windowed: ["5", "3.5", "3.5", "8"]),
    OperatorCase(op: .max, unbounded: ["5", "5", "5", "8"], windowed: ["5", "5", "3.5", "8"]),
    OperatorCase(op: .avg, unbounded: ["5.0", "4.25", "4.25", "5.5"], windowed: ["5.0", "4.25", "3.5", "8.0"]),
    OperatorCase(
        op: .stddev,
        unbounded: ["null", "1.0606601717798212", "1.0606601717798212", "2.29128784747792"],
        windowed: ["null", "1.0606601717798212", "null", "null"]),
    OperatorCase(op: .first, unbounded: ["5", "5", "5", "5"], windowed: ["5", "5", "3.5", "8"]),
    OperatorCase(op: .last, unbounded: ["5", "3.5", "3.5", "8"], windowed: ["5", "3.5", "3.5", "8"]),
    OperatorCase(op: .countDistinct, unbounded: ["1", "2", "2", "3"], windowed: ["1", "2", "1", "1"]),
    OperatorCase(
        op: .histogram,
        unbounded: [#"{"5":1}"#, #"{"3.5":1,"5":1}"#, #"{"3.5":1,"5":1}"#, #"{"3.5":1,"5":1,"8":1}"#],
        windowed: [#"{"5":1}"#, #"{"3.5":1,"5":1}"#, #"{"3.5":1}"#, #"{"8":1}"#]),
    OperatorCase(op: .collect, limit: 2, unbounded: ["[5]", "[5,3.5]", "[5,3.5]", "[3.5,8]"], windowed: ["[5]", "[5,3.5]", "[3.5]", "[8]"]),
    OperatorCase(op: .collect, unbounded: ["[5]", "[5,3.5]", "[5,3.5]", "[5,3.5,8]"], windowed: ["[5]", "[5,3.5]", "[3.5]", "[8]"]),
]

@Test(arguments: cases)
func operatorWithoutWindow(_ c: OperatorCase) throws {
    let result = try runJob(job(feature(c.op, c.field, limit: c.limit)), input: sequence)
    #expect(result.lastColumnTexts == c.unbounded)
}

@Test(arguments: cases)
func operatorWithLookbackWindow(_ c: OperatorCase) throws {
    let result = try runJob(job(feature(c.op, c.field, window: 1500, limit: c.limit)), input: sequence)
    #expect(result.lastColumnTexts == c.windowed)
}

@Test(arguments: cases)
func operatorOverNoValuesGivesNullOrZero(_ c: OperatorCase) throws {
    guard c.field != nil else { return }
    let result = try runJob(job(feature(c.op, c.field, limit: c.limit)), input: events([(1000, nil), (2000, "null")]))
    let expected = [FeatureOperator.count, .countDistinct].contains(c.op) ? "0" : "null"
    #expect(result.lastColumnTexts == [expected, expected])
}

@Test func integerSumsStayIntegersAndDoublesPrintShortest() throws {
    let ints = try runJob(job(feature(.sum)), input: events([(1, "2"), (2, "40")]))
    #expect(ints.lastColumnTexts == ["2", "42"])
    let doubles = try runJob(job(feature(.sum)), input: events([(1, "0.1"), (2, "0.2"), (3, "20.10")]))
    #expect(doubles.lastColumnTexts == ["0.1", "0.30000000000000004", "20.400000000000002"])
    let passthrough = try runJob(job(feature(.last)), input: events([(1, "20.10"), (2, "1E3")]))
    #expect(passthrough.lastColumnTexts == ["20.1", "1000.0"])
}

@Test func integerSumsBeyondInt64StayExactAndRetractExactly() throws {
    // 2^62 twice overflows Int64; the sum stays exact, and when the values leave the window
    // the small remainder comes back exactly (it once came out as 0.0).
    let big = "4611686018427387904"
    let input = events([(1000, big), (2000, big), (3000, "1"), (4000, "0")])
    let windowed = try runJob(job(feature(.sum, window: 1500)), input: input)
    #expect(windowed.lastColumnTexts == [big, "9223372036854775808", "4611686018427387905", "1"])
    let unbounded = try runJob(job(feature(.sum)), input: input)
    #expect(unbounded.lastColumnTexts == [big, "9223372036854775808", "9223372036854775809", "9223372036854775809"])
    let average = try runJob(job(feature(.avg, window: 1500)), input: input)
    #expect(average.lastColumnTexts.last == "0.5")
}

/// Version 1 of the state format kept a sum's integer part in 64 bits; its rows still restore.
@Test func sumStateOfFormatVersionOneRestores() throws {
    let plan = JobPlan(job(feature(.sum)))
    let states = KeyedStates(plan: plan)
    let slot = states.slot(forKey: "\"a\"", hash: KeyGroups.stableHash(ofKey: "\"a\""))
    var writer = StateWriter()
    writer.write(UInt8(1))  // format version
    writer.write(Int64(2))  // count
    writer.write(Int64(42))  // integer sum, 64 bits
    writer.write(0.0)  // double sum
    writer.write(0.0)  // compensation
    writer.write(Int64(0))  // values that are not integers
    try writer.bytes.withUnsafeBytes { try states.decodeRow(slot: slot, from: $0) }
    #expect(results(states, slot: slot) == ["42"])
    // Written back in the current version, it reads the same.
    let current = row(states, slot: slot)
    #expect(current.first == StateFormat.version)
    try current.withUnsafeBytes { try states.decodeRow(slot: slot, from: $0) }
    #expect(results(states, slot: slot) == ["42"])
}

@Test func windowedDoubleSumDoesNotDriftAfterRetraction() throws {
    // 0.1 added 1000 times with a window of 10 events: the sum must stay at 10 * 0.1 exactly
    // as printed, not accumulate rounding residue from retractions.
    let input = events((1...1000).map { ($0 * 10, "0.1") })
    let result = try runJob(job(feature(.sum, window: 95)), input: input)
    #expect(result.lastColumnTexts.last == "0.9999999999999999" || result.lastColumnTexts.last == "1.0")
    #expect(Set(result.lastColumnTexts.suffix(900)).count == 1)
}

@Test func stddevIsStableOnNearEqualValues() throws {
    // Sums of squares lose every digit here; Welford keeps them.
    let input = events([(1, "1000000000.1"), (2, "1000000000.2"), (3, "1000000000.3")])
    let result = try runJob(job(feature(.stddev)), input: input)
    let last = try #require(Double(result.lastColumnTexts[2]))
    #expect(abs(last - 0.1) < 1e-6)
}

@Test func windowedMinMaxFollowTheWindowAsValuesLeave() throws {
    // A descending run then a rise: the monotonic deque must hand over to younger values.
    let input = events([(0, "9"), (100, "7"), (200, "5"), (300, "6"), (400, "8"), (500, "1")])
    let mins = try runJob(job(feature(.min, window: 150)), input: input)
    #expect(mins.lastColumnTexts == ["9", "7", "5", "5", "6", "1"])
    let maxes = try runJob(job(feature(.max, window: 150)), input: input)
    #expect(maxes.lastColumnTexts == ["9", "9", "7", "6", "8", "8"])
}

@Test func windowIncludesItsLowerBound() throws {
    // RANGE BETWEEN 1000 ms PRECEDING: an event exactly 1000 ms older is still inside.
    let result = try runJob(job(feature(.count, nil, window: 1000)), input: events([(0, "1"), (1000, "1"), (1001, "1")]))
    #expect(result.lastColumnTexts == ["1", "2", "2"])
}

@Test func histogramBucketsByStringFormWhileDistinctTellsTypesApart() throws {
    let input = events([(1, "\"5\""), (2, "5"), (3, "\"5\""), (4, "true")])
    let histogram = try runJob(job(feature(.histogram)), input: input)
    #expect(histogram.lastColumnTexts == [#"{"5":1}"#, #"{"5":2}"#, #"{"5":3}"#, #"{"5":3,"true":1}"#])
    let distinct = try runJob(job(feature(.countDistinct)), input: input)
    #expect(distinct.lastColumnTexts == ["1", "2", "2", "3"])
}

@Test func histogramBucketsTextsSpelledDifferentlyApartAsDistinctCountsDo() throws {
    // "é" composed and decomposed: canonically equivalent, but two texts, as in keys.
    let input = events([(1, "\"\u{E9}\""), (2, "\"e\u{301}\"")])
    let histogram = try runJob(job(feature(.histogram)), input: input)
    #expect(histogram.lastColumnTexts == ["{\"\u{E9}\":1}", "{\"e\u{301}\":1,\"\u{E9}\":1}"])
    let distinct = try runJob(job(feature(.countDistinct)), input: input)
    #expect(distinct.lastColumnTexts == ["1", "2"])
}

@Test func collectKeepsStringsObjectsAndOrderByEventTime() throws {
    let input = events([(3, "\"c\""), (1, "{\"x\": [1, 2]}"), (2, "\"b\\u0041\"")])
    let result = try runJob(job(feature(.collect), watermark: 10), input: input)
    #expect(result.lastColumnTexts == [#"[{"x": [1, 2]}]"#, #"[{"x": [1, 2]},"bA"]"#, #"[{"x": [1, 2]},"bA","c"]"#])
}

@Test func minAndMaxCompareNumbersThatShareADoubleExactly() throws {
    // 2^64 and 2^64 + 1 are one double; so are 2^63 - 1 (an Int64) and 2^63 (not one).
    let input = events([
        (1, "18446744073709551616"), (2, "18446744073709551617"), (3, "9223372036854775807"), (4, "9223372036854775808"),
    ])
    let max = try runJob(job(feature(.max)), input: input)
    #expect(max.lastColumnTexts == ["18446744073709551616", "18446744073709551617", "18446744073709551617", "18446744073709551617"])
    let min = try runJob(job(feature(.min)), input: input)
    #expect(min.lastColumnTexts == ["18446744073709551616", "18446744073709551616", "9223372036854775807", "9223372036854775807"])
    let windowedMax = try runJob(job(feature(.max, window: 1)), input: events([(1, "9223372036854775808"), (2, "9223372036854775807")]))
    #expect(windowedMax.lastColumnTexts == ["9223372036854775808", "9223372036854775808"])
    // Decimals are read as doubles (their texts written shortest): only integers keep more.
    let windowedMin = try runJob(job(feature(.min, window: 1)), input: events([(1, "-18446744073709551617"), (2, "-18446744073709551616")]))
    #expect(windowedMin.lastColumnTexts == ["-18446744073709551617", "-18446744073709551617"])
}

@Test func exactDecimalsCompareByValue() {
    let ordered = ["-1e3", "-999.5", "-1", "-0.10000000000000000001", "-0.1", "0", "1e-400", "0.1", "0.10000000000000000001", "1", "1.5", "2E0", "100", "1.01e2", "18446744073709551617"]
    for (i, a) in ordered.enumerated() {
        for (j, b) in ordered.enumerated() {
            #expect(ExactDecimal.exceeds(a, b) == (i > j), "\(a) > \(b)")
        }
    }
    for (a, b) in [("-0", "0"), ("0.0", "0"), ("100", "1e2"), ("1.50", "1.5"), ("007", "7")] {
        #expect(!ExactDecimal.exceeds(a, b) && !ExactDecimal.exceeds(b, a), "\(a) == \(b)")
    }
    #expect(!ExactDecimal.exceeds("abc", "1") && !ExactDecimal.exceeds("1e", "0") && !ExactDecimal.exceeds("1..2", "0"))
}

@Test func anIntegerBeyondInt64TiedWithADoubleComparesWithTheDoublesExactValue() throws {
    // 1.8446744073709551616e19 is the double 2^64 (written 1.8446744073709552e+19), below 2^64 + 1.
    for input in [
        events([(1, "18446744073709551617"), (2, "1.8446744073709551616e19")]),
        events([(1, "1.8446744073709551616e19"), (2, "18446744073709551617")]),
    ] {
        #expect(try runJob(job(feature(.max)), input: input).lastColumnTexts.last == "18446744073709551617")
        #expect(try runJob(job(feature(.min)), input: input).lastColumnTexts.last == "1.8446744073709552e+19")
    }
    #expect(ExactDecimal.integerText(of: 0x1p64) == "18446744073709551616")
    #expect(ExactDecimal.integerText(of: -0x1p70) == "-1180591620717411303424")
    #expect(ExactDecimal.integerText(of: 12345) == "12345")
}
