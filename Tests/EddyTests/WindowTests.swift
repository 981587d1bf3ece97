import Testing
@testable import Eddy

/// A windowed job keyed by `k` with event time `t` in milliseconds.
private func windowed(_ emit: EmitMode, _ features: [FeatureSpec], watermark: Int64 = 0) -> JobSpec {
    var spec = job(features[0], watermark: watermark)
    spec.features = features.enumerated().map { index, feature in
        var feature = feature
        feature.name = "f\(index)"
        return feature
    }
    spec.emit = emit
    return spec
}

private func ms(_ value: Int64) -> EventDuration { EventDuration(microseconds: value * 1000, text: "\(value)ms") }

/// JSON Lines events: (key, time ms, value JSON text).
private func keyed(_ items: [(String, Int, String)]) -> String {
    items.map { #"{"k":"\#($0.0)","t":\#($0.1),"v":\#($0.2)}"# }.joined(separator: "\n") + "\n"
}

@Suite("Windowed emission")
struct WindowTests {
    @Test func tumblingWindowsFireInOrderOfEndThenKeyWithOutOfOrderEventsWithinTheWatermark() throws {
        let input = keyed([("b", 1500, "1"), ("a", 1200, "2"), ("a", 900, "3"), ("b", 2100, "4"), ("a", 2500, "5"), ("b", 4100, "6")])
        let result = try runJob(windowed(.tumbling(size: ms(1000)), [feature(.count, nil), feature(.sum)], watermark: 1000), input: input)
        #expect(result.records == [
            #"{"k":"a","window_start":0,"window_end":1000,"f0":1,"f1":3}"#,
            #"{"k":"a","window_start":1000,"window_end":2000,"f0":1,"f1":2}"#,
            #"{"k":"b","window_start":1000,"window_end":2000,"f0":1,"f1":1}"#,
            #"{"k":"a","window_start":2000,"window_end":3000,"f0":1,"f1":5}"#,
            #"{"k":"b","window_start":2000,"window_end":3000,"f0":1,"f1":4}"#,
            // No events between 3000 and 4000: no window; the last fires when input ends.
            #"{"k":"b","window_start":4000,"window_end":5000,"f0":1,"f1":6}"#,
        ])
        #expect(result.summary.emitted == 6 && result.summary.late == 0 && result.summary.windows == 6)
    }

    /// Keys are told apart by their bytes, as in state: two spellings of one text (NFC and
    /// NFD), which `==` holds equal, are two keys with a window each, in byte order.
    @Test func keysSpelledDifferentlyAreTwoKeysEvenWhenCanonicallyEquivalent() throws {
        let composed = "abcdefg\u{E9}"
        let decomposed = "abcdefge\u{301}"
        let input = keyed([(composed, 100, "1"), (decomposed, 200, "2"), (composed, 300, "4")])
        let result = try runJob(windowed(.tumbling(size: ms(1000)), [feature(.count, nil), feature(.sum)]), input: input)
        #expect(result.summary.windows == 2)
        // "abcdefge" + U+0301 sorts first: its eighth byte is "e", the other's 0xC3.
        #expect(result.column("f1") == ["2", "5"])
    }

    @Test func sessionsOfKeysSpelledDifferentlyStayApart() throws {
        let input = keyed([("\u{E9}", 100, "1"), ("e\u{301}", 200, "2"), ("\u{E9}", 300, "4")])
        let result = try runJob(windowed(.session(gap: ms(1000)), [feature(.count, nil), feature(.sum)]), input: input)
        #expect(result.summary.windows == 2)
        #expect(result.column("f1").sorted() == ["2", "5"])
    }

    @Test func anEventIsLateOnlyWhenEveryWindowOfItHasFired() throws {
        // Watermark 0: after t=2500 it is 2499, so [1000, 2000) has fired (it fires at 1999).
        let tumbling = try runJob(
            windowed(.tumbling(size: ms(1000)), [feature(.count, nil)]),
            input: keyed([("a", 1100, "1"), ("a", 2500, "1"), ("a", 1900, "1"), ("a", 2100, "1")]))
        #expect(tumbling.summary.late == 1 && tumbling.late == [#"{"k":"a","t":1900,"v":1}"#])
        #expect(tumbling.column("f0") == ["1", "2"])
        // Hopping windows of 2 s every 1 s: 1900 is late for [0, 2000) but joins [1000, 3000).
        let hopping = try runJob(
            windowed(.hopping(size: ms(2000), slide: ms(1000)), [feature(.count, nil), feature(.collect)]),
            input: keyed([("a", 1100, "1"), ("a", 2500, "2"), ("a", 1900, "3"), ("a", 2100, "4")]))
        #expect(hopping.summary.late == 0 && hopping.summary.emitted == 4)
        #expect(hopping.records == [
            #"{"k":"a","window_start":0,"window_end":2000,"f0":1,"f1":[1]}"#,
            #"{"k":"a","window_start":1000,"window_end":3000,"f0":4,"f1":[1,3,4,2]}"#,
            #"{"k":"a","window_start":2000,"window_end":4000,"f0":2,"f1":[4,2]}"#,
        ])
    }

    @Test func firstLastAndCollectFollowEventTimeInsideAWindowEvenForStragglers() throws {
        let input = keyed([("a", 500, "\"x\""), ("a", 1500, "\"y\""), ("a", 1200, "\"late-but-open\""), ("a", 100, "\"earliest\"")])
        let result = try runJob(
            windowed(.hopping(size: ms(2000), slide: ms(1000)), [feature(.first), feature(.last), feature(.collect, limit: 2)]),
            input: input)
        // [-1000, 1000) fired at watermark 1499; [0, 2000) is still open for 1200 and 100.
        #expect(result.records[0] == #"{"k":"a","window_start":-1000,"window_end":1000,"f0":"x","f1":"x","f2":["x"]}"#)
        #expect(result.records[1] == #"{"k":"a","window_start":0,"window_end":2000,"f0":"earliest","f1":"y","f2":["late-but-open","y"]}"#)
        #expect(result.summary.late == 0)
    }

    @Test func windowBoundsAreWrittenInTheJobsTimeUnitAndCSV() throws {
        var spec = windowed(.tumbling(size: EventDuration(microseconds: 60_000_000, text: "1m")), [feature(.max)])
        spec.timeUnit = .seconds
        let result = try runJob(spec, input: "k,t,v\na,59,1\na,61,5\nb,119,2\n", format: .csv, output: .csv)
        #expect(result.records == ["k,window_start,window_end,f0", "a,0,60,1", "a,60,120,5", "b,60,120,2"])
    }

    @Test(arguments: [
        (#""emit": {"tumbling": "1m"}"#, #"{"name": "c", "operator": "count", "window": "1h"}"#,
         #"dict[0].window: with windowed "emit" each window aggregates its own events; a lookback "window" does not apply: remove it"#),
        (#""emit": {"hopping": {"size": "10m", "slide": "3m"}}"#, #"{"name": "c", "operator": "count"}"#,
         #"emit.hopping: size 10m must be a whole multiple of slide 3m (each event then falls in size/slide windows); e.g. size "10m" with slide "1m" or "2m""#),
        (#""emit": {"hopping": {"size": "7d", "slide": "1s"}}"#, #"{"name": "c", "operator": "count"}"#,
         "emit.hopping: size 7d over slide 1s puts every event in 604800 windows; keep it to 1000 at most with a longer slide"),
        (#""emit": {"hopping": {"size": "10m"}}"#, #"{"name": "c", "operator": "count"}"#,
         #"emit.hopping: missing required key "slide" (e.g. "1m")"#),
        (#""emit": {"tumbling": "0s"}"#, #"{"name": "c", "operator": "count"}"#, "emit.tumbling: must be longer than 0s"),
        (#""emit": {"tumbling": "1m"}"#, #"{"name": "window_end", "operator": "count"}"#,
         #"dict[0].name: "window_end" is a column of every window's record already; choose another name"#),
        (#""emit": {"tumbling": "1m"}, "carry": ["v"]"#, #"{"name": "c", "operator": "count"}"#,
         #"carry: carried columns belong to one event; a window's record holds its keys, window_start, window_end and the features: remove "carry""#),
    ])
    func windowedSpecsAreValidated(root: String, entry: String, message: String) {
        #expect(specErrors(specFeature(entry, root: #""time": "ts", "# + root)) == [message])
    }

    @Test func windowsNeedEventTime() {
        #expect(specErrors(specJob(#""emit": {"tumbling": "1m"}"#)) == [
            #"emit.tumbling: windows need event time; add "time": "<column>" to the job, or use "emit": "event""#,
        ])
    }
}

@Suite("Session windows")
struct SessionTests {
    private func sessions(_ gap: Int64, watermark: Int64, _ features: [FeatureSpec] = [feature(.count, nil), feature(.collect)]) -> JobSpec {
        var spec = job(features[0], watermark: watermark)
        spec.features = features.enumerated().map { index, feature in
            var feature = feature
            feature.name = "f\(index)"
            return feature
        }
        spec.emit = .session(gap: EventDuration(microseconds: gap * 1000, text: "\(gap)ms"))
        return spec
    }

    private func keyed(_ items: [(String, Int, String)]) -> String {
        items.map { #"{"k":"\#($0.0)","t":\#($0.1),"v":\#($0.2)}"# }.joined(separator: "\n") + "\n"
    }

    @Test func eventsWithinTheGapInclusiveAreOneSessionAndAnOutOfOrderEventBridgesTwo() throws {
        // 0 and 2000 are 2000 apart with a 1000 gap; 1000 arrives last (within the 5 s
        // watermark) and is within the gap of both: one session. 3000 is exactly the gap after
        // 2000: it joins. 4001 is not.
        let input = keyed([("a", 0, "1"), ("a", 2000, "3"), ("b", 100, "9"), ("a", 1000, "2"), ("a", 3000, "4"), ("a", 4001, "5")])
        let result = try runJob(sessions(1000, watermark: 5000), input: input)
        #expect(result.records == [
            #"{"k":"b","window_start":100,"window_end":1100,"f0":1,"f1":[9]}"#,
            #"{"k":"a","window_start":0,"window_end":4000,"f0":4,"f1":[1,2,3,4]}"#,
            #"{"k":"a","window_start":4001,"window_end":5001,"f0":1,"f1":[5]}"#,
        ])
        #expect(result.summary.windows == 3 && result.summary.emitted == 6)
    }

    @Test func anEventBehindTheWatermarkJoinsAnOpenSessionOrOpensOneElseItIsLate() throws {
        // Watermark bound 0, gap 1000. After b@5000 the watermark is 4999: a's session [0]
        // closed at 1000; a@4500 is behind the watermark but its own session would close at 5500:
        // accepted. a@3000: alone it would close at 4000 <= 4999, and it is 1500 from 4500: late.
        // a@3600 reaches the open session of 4500: it joins.
        let input = keyed([("a", 0, "1"), ("b", 5000, "2"), ("a", 4500, "3"), ("a", 3000, "4"), ("a", 3600, "5")])
        let result = try runJob(sessions(1000, watermark: 0), input: input)
        #expect(result.summary.late == 1 && result.late == [#"{"k":"a","t":3000,"v":4}"#])
        #expect(result.records == [
            #"{"k":"a","window_start":0,"window_end":1000,"f0":1,"f1":[1]}"#,
            #"{"k":"a","window_start":3600,"window_end":5500,"f0":2,"f1":[5,3]}"#,
            #"{"k":"b","window_start":5000,"window_end":6000,"f0":1,"f1":[2]}"#,
        ])
    }

    @Test func sessionSpecsAreValidated() {
        #expect(specErrors(specFeature(#"{"name": "c", "operator": "count"}"#, root: #""time": "ts", "emit": {"session": {"gap": "0s"}}"#)) == [
            "emit.session.gap: must be longer than 0s",
        ])
        #expect(specErrors(specFeature(#"{"name": "c", "operator": "count"}"#, root: #""time": "ts", "emit": {"session": {"gaps": "1m"}}"#)) == [
            #"emit.session: missing required key "gap" (e.g. "30m")"#,
            #"emit.session.gaps: unknown key; did you mean "gap"?"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "c", "operator": "count"}"#, root: #""time": "ts", "emit": {"session": "30m"}"#)) == [
            #"emit.session: expected {"gap": "30m"}, found a string"#,
        ])
    }
}
