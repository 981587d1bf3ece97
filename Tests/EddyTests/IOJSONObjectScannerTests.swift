import Testing
@testable import Eddy

private let eventFields = ["card_id", "merchant", "amount", "ts"]

@Test func extractsNeededFieldsFromAnEvent() {
    let line = #"{"card_id":"c012345","merchant":"m01234","country":"US","amount":20.10,"ts":1700000000000}"#
    let (values, problem) = scanJSON(line, eventFields)
    #expect(problem == nil)
    #expect(values == [str("\"c012345\""), str("\"m01234\""), dbl("20.1", 20.1), int(1_700_000_000_000)])
}

@Test func absentFieldsAreMissingAndOrderDoesNotMatter() {
    let (values, problem) = scanJSON(#" { "ts" : 5 , "x" : [1,2] , "card_id" : "a" } "#, eventFields)
    #expect(problem == nil)
    #expect(values == [str("\"a\""), .missing, .missing, int(5)])
}

@Test func reusedValuesAreResetBetweenRecords() {
    var scanner = JSONObjectScanner(fieldNames: ["a", "b"])
    var values = Array(repeating: FieldValue.missing, count: 2)
    #expect(withBytes(#"{"a":1,"b":2}"#) { scanner.scan($0, into: &values) } == nil)
    #expect(values == [int(1), int(2)])
    #expect(withBytes(#"{"b":3}"#) { scanner.scan($0, into: &values) } == nil)
    #expect(values == [.missing, int(3)])
    #expect(withBytes(#"{"a":true,"c":1}"#) { scanner.scan($0, into: &values) } == nil)
    #expect(values == [FieldValue(kind: .bool, text: "true"), .missing])
}

@Test func buildsEveryKindOfValue() {
    let record = #"{"s":"x","n":-0,"f":1E3,"t":true,"F":false,"z":null,"o":{ "k" : [1, {"q":null}] },"a":[ ],"e":{}}"#
    let (values, problem) = scanJSON(record, ["s", "n", "f", "t", "F", "z", "o", "a", "e"])
    #expect(problem == nil)
    #expect(values == [
        str("\"x\""), FieldValue(kind: .number, text: "0", number: 0, integer: 0), dbl("1000.0", 1000),
        FieldValue(kind: .bool, text: "true"), FieldValue(kind: .bool, text: "false"), .null,
        FieldValue(kind: .json, text: #"{ "k" : [1, {"q":null}] }"#), FieldValue(kind: .json, text: "[ ]"),
        FieldValue(kind: .json, text: "{}"),
    ])
}

@Test func stringsAreCanonicalized() {
    let record = #"{"a":"\u0041\/b","b":"tab\there","c":"\ud83d\ude00","d":"é literal","e":"q\"\\","f":"\u001F"}"#
    let (values, problem) = scanJSON(record, ["a", "b", "c", "d", "e", "f"])
    #expect(problem == nil)
    #expect(values.map(\.text) == [#""A/b""#, #""tab\there""#, "\"😀\"", "\"é literal\"", #""q\"\\""#, #""\u001f""#])
    #expect(values.allSatisfy { $0.kind == .string })
}

@Test func memberNamesWithEscapesAreMatchedDecoded() {
    let (values, problem) = scanJSON(#"{"card\u005fid":"c1","\u00e9t\u00e9":2}"#, ["card_id", "été"])
    #expect(problem == nil)
    #expect(values == [str("\"c1\""), int(2)])
}

@Test func lastDuplicateMemberWins() {
    let (values, problem) = scanJSON(#"{"a":1,"b":2,"a":"late"}"#, ["a", "b"])
    #expect(problem == nil)
    #expect(values == [str("\"late\""), int(2)])
}

@Test func namesMatchExactly() {
    let (values, _) = scanJSON(#"{"amoun":1,"amounts":2,"Amount":3,"":4}"#, ["amount", ""])
    #expect(values == [.missing, int(4)])
}

@Test func capturesAllMembersInOrder() {
    var scanner = JSONObjectScanner(fieldNames: ["b"], captureAllMembers: true)
    var values = [FieldValue.missing]
    let problem = withBytes(#"{"a":1,"b":"x","c\u0021":[1],"a":2}"#) { scanner.scan($0, into: &values) }
    #expect(problem == nil)
    #expect(values == [str("\"x\"")])
    #expect(scanner.members.map(\.name) == ["a", "b", "c!"])
    #expect(scanner.members.map(\.value) == [int(2), str("\"x\""), FieldValue(kind: .json, text: "[1]")])
    #expect(withBytes("{}") { scanner.scan($0, into: &values) } == nil)
    #expect(scanner.members.isEmpty)
}

@Test func reportsProblemsWithOffsets() {
    let cases: [(String, Int, String)] = [
        ("", 0, "record is not a JSON object"),
        ("[1]", 0, "record is not a JSON object"),
        ("  42", 2, "record is not a JSON object"),
        (#"{"a":1} x"#, 8, "trailing characters after the object"),
        (#"{"a":1}{}"#, 7, "trailing characters after the object"),
        (#"{"a":1 "b":2}"#, 7, "expected ',' or '}' after a member"),
        (#"{"a":1"#, 6, "expected ',' or '}' after a member"),
        (#"{"a" 1}"#, 5, "expected ':' after a member name"),
        (#"{a:1}"#, 1, "expected a member name"),
        (#"{"a":1,}"#, 7, "expected a member name"),
        (#"{"a":}"#, 5, "expected a value"),
        (#"{"a":"abc}"#, 5, "unterminated string"),
        (#"{"a":01}"#, 5, "invalid number"),
        (#"{"a":1.}"#, 5, "invalid number"),
        (#"{"a":-}"#, 5, "invalid number"),
        (#"{"a":+1}"#, 5, "expected a value"),
        (#"{"a":1e999}"#, 5, "number is out of range"),
        (#"{"a":tru}"#, 5, "invalid literal"),
        (#"{"a":nul}"#, 5, "invalid literal"),
        (#"{"a":"x\qy"}"#, 7, "invalid escape sequence"),
        (#"{"a":"\u12"}"#, 6, #"invalid \u escape"#),
        (#"{"a":"\ud800x"}"#, 6, #"unpaired surrogate in \u escape"#),
        (#"{"a":"\udc00"}"#, 6, #"unpaired surrogate in \u escape"#),
        ("{\"a\":\"x\ty\"}", 7, "control character in a string (must be escaped)"),
        (#"{"a":NaN}"#, 5, "expected a value"),
    ]
    for (record, offset, message) in cases {
        #expect(jsonProblem(record) == RecordProblem(offset: offset, message: message), "\(record)")
    }
}

@Test func skippedMembersAreValidatedToo() {
    let cases: [(String, Int, String)] = [
        (#"{"skip":{"x":[1,2,}],"a":1}"#, 18, "expected a value"),
        (#"{"skip":[1 2],"a":1}"#, 11, "expected ',' or ']' after an element"),
        (#"{"skip":{"x" 1},"a":1}"#, 13, "expected ':' after a member name"),
        (#"{"skip":"bad\x","a":1}"#, 12, "invalid escape sequence"),
        (#"{"skip":1.5e,"a":1}"#, 8, "invalid number"),
        (#"{"skip":[{"deep":{"er":fals}}],"a":1}"#, 23, "invalid literal"),
        (#"{"skip":{"u":"\ud83d"},"a":1}"#, 14, #"unpaired surrogate in \u escape"#),
        (#"{"skip":[1,2"#, 12, "expected ',' or ']' after an element"),
    ]
    for (record, offset, message) in cases {
        #expect(jsonProblem(record) == RecordProblem(offset: offset, message: message), "\(record)")
    }
}

@Test func rejectsInvalidUTF8InStrings() {
    let prefix = Array(#"{"a":"x"#.utf8)
    for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3]] {
        var scanner = JSONObjectScanner(fieldNames: ["b"])
        var values = [FieldValue.missing]
        let record = prefix + bad + Array(#"","b":1}"#.utf8)
        let problem = withBytes(record) { scanner.scan($0, into: &values) }
        #expect(problem == RecordProblem(offset: 7, message: "invalid UTF-8"), "\(bad)")
    }
    // Valid multi-byte sequences of every length pass.
    #expect(scanJSON("{\"a\":\"é€😀\"}", ["a"]).values == [str("\"é€😀\"")])
}

@Test func deepNestingIsBoundedNotACrash() {
    let deep = "{\"a\":" + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
    #expect(jsonProblem(deep)?.message == "nesting deeper than 512 levels")
    let ok = "{\"a\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
    #expect(jsonProblem(ok) == nil)
}

@Test func valuesAreTrimmedAndWhitespaceAllowedEverywhere() {
    let (values, problem) = scanJSON("\t{\r\n\"o\" :\t{ \"x\" : 1 }\n ,\"s\": \"v\" }\r\n ", ["o", "s"])
    #expect(problem == nil)
    #expect(values == [FieldValue(kind: .json, text: #"{ "x" : 1 }"#), str("\"v\"")])
}

/// One scanner reading a stream whose member layout keeps changing (order, spacing, escaped
/// names, names that are prefixes of others, bad records in between) gives, record by record,
/// what a fresh scanner gives: the remembered layout of the last record never leaks into the
/// next one (nor do the values a bad record leaves set).
@Test func aRememberedMemberLayoutNeverChangesWhatARecordMeans() {
    let fields = ["a", "ab", "b\"c", "é"]
    let records = [
        #"{"a":1,"ab":2,"b\"c":3,"é":4}"#,
        #"{"a":1,"ab":2,"b\"c":3,"é":4}"#,
        #"{"ab":5,"a":6,"x":[1,{"a":2}],"é":7}"#,
        #"{"a" :1,"ab": 2 ,"b\"c":3}"#,
        #"{"a":1,"ab":2,"b\"c":3,"é":4}"#,
        #"{"a":1,"a":2,"a":3}"#,
        #"{"ab":1}"#,
        #"{"a":1,"ab":}"#,
        #"{"a":1,"ab":2"#,
        #"{"a":1,"ab":2,"b\u0022c":8,"\u00e9":9}"#,
        #"{"a":1,"ab":2,"b\"c":3,"é":4,"extra":{}}"#,
        #"{"a":"x","ab":"y"}"#,
        #"{"a":"x","abc":"y"}"#,
        #"{"a":"x","ab"}"#,
        #"{}"#,
        #"{"a":1,"ab":2,"b\"c":3,"é":4}"#,
        // The layout matches, but a value, a separator or the end is one that only the
        // general reading handles (after some values are already set).
        #"{"a":1,"ab":"x\u0041","b\"c":3,"é":4}"#,
        #"{"a":1,"ab":1e400,"b\"c":3,"é":4}"#,
        #"{"a":1,"ab":true,"b\"c":null,"é":[4]}"#,
        #"{"a":1,"ab":2,"b\"c":3,"é":4} x"#,
        #"{"a":1,"ab":2,"b\"c":3,"é":4,}"#,
        #"{"a":1,"ab":2,"b\"c":3,"é":4,"extra":5}"#,
        #"{"a":1,"ab":01,"b\"c":3,"é":4}"#,
        #"{"a":1,"ab":"\u00zz","b\"c":3,"é":4}"#,
        #" { "a" : 1 , "ab" : 2 , "b\"c" : 3 , "é" : 4 } "#,
        #"{"a":1,"ab":2,"b\"c":3,"é":4}"#,
        // A member the job skips, in the remembered layout.
        #"{"a":1,"x":"s\n","ab":2}"#,
        #"{"a":1,"x":"s\q","ab":2}"#,
        #"{"a":1,"x":1.5e3,"ab":2}"#,
        #"{"a":1,"x":-,"ab":2}"#,
        #"{"a":1,"x":"\u00e9\ud83d\ude00","ab":"é"}"#,
        #"{"a":1,"x":false,"ab":2}"#,
        #"{"a":1,"x":"s","ab":2}"#,
    ]
    var scanner = JSONObjectScanner(fieldNames: fields)
    var values = Array(repeating: FieldValue.missing, count: fields.count)
    for record in records {
        let problem = withBytes(record) { scanner.scan($0, into: &values) }
        let fresh = scanJSON(record, fields)
        #expect(problem == fresh.problem, "\(record)")
        #expect(values == fresh.values, "\(record)")
    }
}

/// The laid-out reading's own shortcuts (names matched as two words, plain strings found 16
/// bytes at a time, numbers followed by a separator) read every record as the general
/// reading does: each variant follows a record that sets up its layout, and its values and
/// problem are compared with a fresh scanner's, byte sequences that are not UTF-8 included.
@Test func laidOutShortcutsReadAsTheGeneralReadingDoes() {
    // Quoted with its colon, "name_of_13_ch" is 16 bytes (the two-word match) and
    // "name_of_14_chr" 17 (the byte compare).
    let fields = ["id", "name_of_13_ch", "name_of_14_chr", "amount"]
    let base = #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","name_of_14_chr":"x","amount":40.35}"#
    let variants: [[UInt8]] = [
        #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","name_of_14_chr":"x","amount":40.35}"#,
        #"{"id":"a string longer than sixteen bytes","name_of_13_ch":"exactly 15 byte","skip":"sixteen bytes!!!","name_of_14_chr":"","amount":-0.5}"#,
        #"{"id":"é","name_of_13_ch":"a long text with ü past 16","skip":"naïve","name_of_14_chr":"x","amount":100.10}"#,
        #"{"id":"x\"y","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":1}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"a\\b\/c\u0041","name_of_14_chr":"x","amount":1234567890.12345}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":1234567890.123456}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":0.001}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":1.5.3}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":12-}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":12e}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":12E+2}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":1699999999566 }"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":"40.35"}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":"unterminated}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":"ab"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chx":"x","amount":1}"#,
        #"{"id":"x","name_of_13_cx":"m","skip":"GB","name_of_14_chr":"x","amount":1}"#,
        #"{"id":"x", "name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":1}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":1}   "#,
    ].map { Array($0.utf8) } + [
        // A control character, a byte that is never UTF-8 and a truncated sequence, in a
        // needed string and in a skipped one, early in a 16-byte block and late.
        Array(#"{"id":"a"#.utf8) + [0x01] + Array(#"b","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x","amount":1}"#.utf8),
        Array(#"{"id":"x","name_of_13_ch":"m","skip":"GB_fifteen_byt"#.utf8) + [0xFF] + Array(#"","name_of_14_chr":"x","amount":1}"#.utf8),
        Array(#"{"id":"x","name_of_13_ch":"m","skip":"G"#.utf8) + [0xC3] + Array(#"","name_of_14_chr":"x","amount":1}"#.utf8),
        Array(#"{"id":"x","name_of_13_ch":"m","skip":"GB","name_of_14_chr":"x"#.utf8) + [0x0A] + Array(#"","amount":1}"#.utf8),
    ]
    var scanner = JSONObjectScanner(fieldNames: fields)
    var values = Array(repeating: FieldValue.missing, count: fields.count)
    for variant in variants {
        for record in [Array(base.utf8), variant] {
            let problem = withBytes(record) { scanner.scan($0, into: &values) }
            var fresh = JSONObjectScanner(fieldNames: fields)
            var freshValues = Array(repeating: FieldValue.missing, count: fields.count)
            let freshProblem = withBytes(record) { fresh.scan($0, into: &freshValues) }
            #expect(problem == freshProblem, "\(String(decoding: record, as: UTF8.self))")
            #expect(values == freshValues, "\(String(decoding: record, as: UTF8.self))")
        }
    }
}
