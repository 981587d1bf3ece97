import Testing
@testable import Eddy

// Every validation rule with its exact path and message: the messages are the product here,
// since they are what a user reads to fix a spec.

@Suite struct SpecRootErrors {
    @Test func rootMustBeAnObject() {
        #expect(specErrors(#"["card_id"]"#) == [#"$: expected a JSON object with "code", "keys" and "dict", found an array"#])
    }

    @Test func missingRequiredKeysAreReportedAtTheRoot() {
        #expect(specErrors("{}") == [
            #"$: missing required key "code" (the job's identifier, e.g. "card_velocity")"#,
            #"$: missing required key "keys" (the columns that key the stream, e.g. ["card_id"])"#,
            #"$: missing required key "dict" (the features, e.g. [{"name": "txn_count", "operator": "count"}])"#,
        ])
    }

    @Test func unknownRootKeysSuggestTheClosestKey() {
        #expect(specErrors(specJob(#""watermak": "5s""#)) == [#"watermak: unknown key; did you mean "watermark"?"#])
        #expect(specErrors(specJob(#""timeunit": "s""#)) == [#"timeunit: unknown key; did you mean "timeUnit"?"#])
        #expect(specErrors(specJob(#""colour": 1"#)) == [
            #"colour: unknown key; allowed keys are "code", "keys", "time", "timeUnit", "watermark", "maxParallelism", "emit", "carry", "ttl" and "dict""#,
        ])
    }

    @Test func syntaxErrorsAreOneDiagnosticWithLineAndColumn() {
        let json = """
            {
              "code": "j",
              "keys": ["k"],
              "dict": [{"name": "n" "operator": "count"}]
            }
            """
        #expect(specErrors(json) == [#"$: line 4, column 25: expected ',' or '}' after a member, found '"'"#])
    }

    @Test func duplicateKeysAreErrorsAtTheObject() {
        let json = specJob(dict: #"[{"name": "a", "operator": "count"}, {"name": "b", "operator": "count", "name": "c"}]"#)
        #expect(specErrors(json) == [#"dict[1]: duplicate key "name" at line 1, column 110: name each key once"#])
    }
}

@Suite struct SpecMemberErrors {
    @Test(arguments: [
        (#"5"#, #"code: expected the job's identifier (a string such as "card_velocity"), found 5"#),
        (#""""#, "code: must not be empty; use only letters, digits, '_', '.' and '-'"),
        (#""card velocity""#, #"code: "card velocity" is not a valid job code; use only letters, digits, '_', '.' and '-'"#),
        (#""carte/é""#, #"code: "carte/é" is not a valid job code; use only letters, digits, '_', '.' and '-'"#),
        (#""..""#, #"code: ".." is not a valid job code; it must contain a letter, digit, '_' or '-'"#),
    ])
    func code(value: String, message: String) {
        #expect(specErrors(specJob(code: value)) == [message])
    }

    @Test(arguments: [
        (#""card_id""#, #"keys: expected an array of column names, e.g. ["card_id"]"#),
        (#""user""#, #"keys: expected an array of column names, e.g. ["user"]"#),
        (#"{"a": 1}"#, #"keys: expected an array of column names, e.g. ["card_id"], found an object"#),
        (#"[]"#, #"keys: needs at least one column name, e.g. ["card_id"]"#),
        (#"["a", 7]"#, "keys[1]: expected a column name (a string), found 7"),
        (#"["a", ""]"#, "keys[1]: key column name must not be empty"),
        (#"["a", "b", "a"]"#, #"keys[2]: "a" is already listed as keys[0]; remove the duplicate"#),
    ])
    func keys(value: String, message: String) {
        #expect(specErrors(specJob(keys: value)) == [message])
    }

    @Test func time() {
        #expect(specErrors(specJob(#""time": 1"#)) == ["time: expected the name of the event-time column (a string), found 1"])
        #expect(specErrors(specJob(#""time": """#)) == [
            #"time: must not be empty; name the event-time column, or remove "time" to process events in arrival order"#,
        ])
    }

    @Test func timeUnit() throws {
        #expect(try specDecode(specJob(#""time": "ts", "timeUnit": "s""#)).spec.timeUnit == .seconds)
        #expect(specErrors(specJob(#""time": "ts", "timeUnit": "sec""#)) == [#"timeUnit: unknown time unit "sec"; use "s", "ms" or "us""#])
        #expect(specErrors(specJob(#""time": "ts", "timeUnit": 1000"#)) == [#"timeUnit: expected "s", "ms" or "us", found 1000"#])
        #expect(specErrors(specJob(#""timeUnit": "s""#)) == [
            #"timeUnit: a time unit needs event time; add "time": "<column>" to the job, or remove "timeUnit""#,
        ])
    }

    @Test func watermark() {
        #expect(specErrors(specJob(#""watermark": "5s""#)) == [
            #"watermark: a watermark needs event time; add "time": "<column>" to the job, or remove "watermark""#,
        ])
        #expect(specErrors(specJob(#""time": "ts", "watermark": "5 sec""#)) == [
            #"watermark: invalid duration "5 sec"; write a whole number and a unit (us, ms, s, m, h, d, w), e.g. "5s", "500ms" or "1h30m""#,
        ])
        #expect(specErrors(specJob(#""time": "ts", "watermark": 5000"#)) == [
            #"watermark: expected a duration string such as "5s", "500ms" or "1h30m", found 5000"#,
        ])
    }

    @Test func aMalformedTimeDoesNotAlsoBlameItsDependents() {
        // "time" is there, just wrong: one error, not three.
        #expect(specErrors(specJob(#""time": 3, "watermark": "5s", "timeUnit": "s""#)) == [
            "time: expected the name of the event-time column (a string), found 3",
        ])
    }

    @Test(arguments: [
        (#""128""#, "maxParallelism: expected an integer from 1 to 32768, found a string"),
        ("0", "maxParallelism: expected an integer from 1 to 32768, found 0"),
        ("32769", "maxParallelism: expected an integer from 1 to 32768, found 32769"),
        ("-1", "maxParallelism: expected an integer from 1 to 32768, found -1"),
        ("128.5", "maxParallelism: expected an integer from 1 to 32768, found 128.5"),
        ("1e2", "maxParallelism: expected an integer from 1 to 32768, found 100.0"),
        ("null", "maxParallelism: expected an integer from 1 to 32768, found null"),
    ])
    func maxParallelism(value: String, message: String) {
        #expect(specErrors(specJob(#""maxParallelism": \#(value)"#)) == [message])
    }

    @Test func maxParallelismBounds() throws {
        #expect(try specDecode(specJob(#""maxParallelism": 1"#)).spec.maxParallelism == 1)
        #expect(try specDecode(specJob(#""maxParallelism": 32768"#)).spec.maxParallelism == 32768)
    }

    @Test(arguments: [
        (#"{"tumbling": "1m"}"#, #"emit.tumbling: windows need event time; add "time": "<column>" to the job, or use "emit": "event""#),
        (#"{"hopping": {"size": "10m", "slide": "1m"}}"#, #"emit.hopping: windows need event time; add "time": "<column>" to the job, or use "emit": "event""#),
        (#""events""#, #"emit: unknown emission "events"; did you mean "event"? use "event", or an object for windows such as {"tumbling": "1m"}"#),
        (#""window""#, #"emit: unknown emission "window"; use "event", or an object for windows such as {"tumbling": "1m"}"#),
        (#"{"sliding": "1m"}"#, #"emit.sliding: unknown key; allowed keys are "tumbling", "hopping" and "session""#),
        (#"{"tumbing": "7d"}"#, #"emit.tumbing: unknown key; did you mean "tumbling"?"#),
        (#"{"tumbling": "1m", "session": {"gap": "1m"}}"#, #"emit: give one window kind, found 2: "tumbling" and "session""#),
        ("true", #"emit: expected "event", {"tumbling": "1m"}, {"hopping": {"size": "10m", "slide": "1m"}} or {"session": {"gap": "30m"}}, found true"#),
    ])
    func emit(value: String, message: String) {
        #expect(specErrors(specJob(#""emit": \#(value)"#)) == [message])
    }

    @Test(arguments: [
        (#""*""#, #"carry: expected an array of column names or ["*"] for every column, found a string"#),
        (#"["*", "amount"]"#, #"carry[0]: "*" carries every column and cannot be mixed with column names; use ["*"] alone or list the columns"#),
        (#"["amount", 3]"#, "carry[1]: expected a column name (a string), found 3"),
        (#"[""]"#, "carry[0]: carried column name must not be empty"),
        (#"["amount", "amount"]"#, #"carry[1]: "amount" is already listed as carry[0]; remove the duplicate"#),
        (#"["k"]"#, #"carry[0]: "k" is a key column, which is already in the output; remove it from carry"#),
        (#"["amount", "ts"]"#, #"carry[1]: "ts" is the time column, which is already in the output; remove it from carry"#),
        (#"["n"]"#, #"carry[0]: "n" is also the name of a feature (dict[0]); rename the feature or stop carrying the column"#),
    ])
    func carry(value: String, message: String) {
        #expect(specErrors(specJob(#""time": "ts", "carry": \#(value)"#)) == [message])
    }

    @Test(arguments: [
        (#"{"name": "n", "operator": "count"}"#, #"dict: expected an array of feature objects such as {"name": "txn_count", "operator": "count"}, found an object"#),
        ("[]", #"dict: needs at least one feature, e.g. {"name": "txn_count", "operator": "count"}"#),
        (#"["count"]"#, #"dict[0]: expected a feature object such as {"name": "txn_count", "operator": "count"}, found a string"#),
    ])
    func dict(value: String, message: String) {
        #expect(specErrors(specJob(dict: value)) == [message])
    }
}

@Suite struct SpecFeatureErrors {
    @Test func unknownEntryKeysSuggestTheClosestKey() {
        #expect(specErrors(specFeature(#"{"name": "s", "operator": "sum", "feild": "amount"}"#)) == [
            #"dict[0]: operator "sum" needs a "field" (the input column to read)"#,
            #"dict[0].feild: unknown key; did you mean "field"?"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "c", "operator": "count", "where": "x > 1"}"#)) == [
            #"dict[0].where: unknown key; allowed keys are "name", "type", "operator", "field", "window", "limit", "from", "column" and "key""#,
        ])
    }

    @Test func lookupsNeedTheirBroadcastInputAndColumn() {
        #expect(specErrors(specFeature(#"{"name": "t", "operator": "lookup", "field": "merchant"}"#)) == [
            #"dict[0]: operator "lookup" needs "from", e.g. "merchants" (a --broadcast name)"#,
            #"dict[0]: operator "lookup" needs "column", e.g. "tier" (the column to output)"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "t", "operator": "lookup", "from": "merchants", "column": "tier"}"#)) == [
            #"dict[0]: operator "lookup" needs a "field" (the input column to read)"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "t", "operator": "lookup", "field": "m", "from": "a/b", "column": "tier"}"#)) == [
            "dict[0].from: broadcast name \"a/b\" may hold only letters, digits, '_', '.' and '-'",
        ])
        #expect(specErrors(specFeature(#"{"name": "t", "operator": "lookup", "field": "m", "from": "x", "column": "tier", "window": "1h"}"#)) == [
            #"dict[0].window: a lookup reads the broadcast input as it is now; "window" does not apply: remove it"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "t", "type": "map", "operator": "lookup", "field": "m", "from": "x", "column": "tier"}"#)) == [
            #"dict[0]: operator "lookup" needs type "broadcast", not "map""#,
        ])
        #expect(specErrors(specFeature(#"{"name": "s", "operator": "sum", "field": "amount", "from": "x"}"#)) == [
            #"dict[0].from: "from" only applies to operator "lookup" (a broadcast input); remove it"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "t", "operator": "lookup", "field": "m", "from": 3, "column": ""}"#)) == [
            #"dict[0].from: expected the name of a broadcast input (a string such as "merchants", as --broadcast merchants=FILE gives it), found 3"#,
            #"dict[0].column: must not be empty; expected a column of the broadcast input (a string such as "tier")"#,
        ])
        // Without a time column, a window is refused for what it is here, not for the time.
        #expect(specErrors(#"{"code": "j", "keys": ["k"], "dict": [{"name": "t", "operator": "lookup", "field": "m", "from": "x", "column": "c", "window": "1h"}]}"#) == [
            #"dict[0].window: a lookup reads the broadcast input as it is now; "window" does not apply: remove it"#,
        ])
    }

    @Test func aLookupDecodesWithItsKeyColumn() throws {
        let spec = try specDecode(specFeature(#"{"name": "t", "operator": "lookup", "field": "m", "from": "merchants", "column": "tier", "key": "id"}"#)).spec
        #expect(spec.features[0].type == .broadcast)
        #expect(spec.features[0].lookup == BroadcastLookup(from: "merchants", column: "tier", key: "id"))
    }

    @Test func name() {
        #expect(specErrors(specFeature(#"{"operator": "count"}"#)) == [#"dict[0]: missing required key "name" (the output column)"#])
        #expect(specErrors(specFeature(#"{"name": 1, "operator": "count"}"#)) == ["dict[0].name: expected the output column name (a string), found 1"])
        #expect(specErrors(specFeature(#"{"name": "", "operator": "count"}"#)) == ["dict[0].name: must not be empty; name the output column"])
        #expect(specErrors(specFeature(#"{"name": "k", "operator": "count"}"#)) == [
            #"dict[0].name: "k" is a key column, which is already in the output; choose another name"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "ts", "operator": "count"}"#)) == [
            #"dict[0].name: "ts" is the time column, which is already in the output; choose another name"#,
        ])
    }

    @Test func namesAreUnique() {
        let dict = """
            [{"name": "n", "operator": "count"},
             {"name": "amount_sum", "operator": "sum", "field": "amount"},
             {"name": "m", "operator": "max", "field": "amount"},
             {"name": "amount_sum", "operator": "sum", "field": "amount"}]
            """
        #expect(specErrors(specJob(dict: dict)) == [
            #"dict[3].name: "amount_sum" is already used by dict[1]; feature names must be unique"#,
        ])
    }

    @Test func operatorIsRequiredAndMustBeKnown() {
        let all = #""first", "last", "count", "sum", "min", "max", "avg", "stddev", "count_distinct", "histogram", "collect" or "lookup""#
        #expect(specErrors(specFeature(#"{"name": "f", "field": "x"}"#)) == [#"dict[0]: missing required key "operator" (one of \#(all))"#])
        #expect(specErrors(specFeature(#"{"name": "f", "operator": "summ", "field": "x"}"#)) == [
            #"dict[0].operator: unknown operator "summ"; did you mean "sum"?"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "f", "operator": "median", "field": "x"}"#)) == [
            #"dict[0].operator: unknown operator "median"; use one of \#(all)"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "f", "operator": ["sum"], "field": "x"}"#)) == [
            #"dict[0].operator: expected one of \#(all), found an array"#,
        ])
    }

    @Test func typeMustBeKnown() {
        #expect(specErrors(specFeature(#"{"name": "f", "type": "aggregate", "operator": "avg", "field": "x"}"#)) == [
            #"dict[0].type: unknown type "aggregate"; did you mean "aggregating"?"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "f", "type": "Reducing", "operator": "sum", "field": "x"}"#)) == [
            #"dict[0].type: unknown type "Reducing"; did you mean "reducing"?"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "f", "type": "state", "operator": "sum", "field": "x"}"#)) == [
            #"dict[0].type: unknown type "state"; use one of "value", "list", "map", "reducing", "aggregating" or "broadcast", or omit it to infer from the operator"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "f", "type": 2, "operator": "sum", "field": "x"}"#)) == [
            #"dict[0].type: expected one of "value", "list", "map", "reducing", "aggregating" or "broadcast", found 2"#,
        ])
    }

    @Test(arguments: [
        ("reducing", "count_distinct", #"dict[1]: operator "count_distinct" needs type "map", not "reducing""#),
        ("value", "count", #"dict[1]: operator "count" needs type "reducing" or "aggregating", not "value""#),
        ("reducing", "avg", #"dict[1]: operator "avg" needs type "aggregating", not "reducing""#),
        ("map", "collect", #"dict[1]: operator "collect" needs type "list", not "map""#),
        ("list", "last", #"dict[1]: operator "last" needs type "value", not "list""#),
    ])
    func typeMismatchNamesTheEntryAndTheFittingTypes(type: String, op: String, message: String) {
        let dict = #"[{"name": "n", "operator": "count"}, {"name": "f", "type": "\#(type)", "operator": "\#(op)", "field": "x"}]"#
        #expect(specErrors(specJob(#""time": "ts""#, dict: dict)) == [message])
    }

    @Test func foldingWithAMismatchedOperatorIsStillAnError() {
        // The deprecation is a warning; the mismatch is an error, and only errors are thrown.
        #expect(specErrors(specFeature(#"{"name": "f", "type": "folding", "operator": "first", "field": "x"}"#)) == [
            #"dict[0]: operator "first" needs type "value", not "folding""#,
        ])
    }

    @Test func fieldIsRequiredExceptForCount() {
        let dict = #"[{"name": "n", "operator": "count"}, {"name": "a", "operator": "count"}, {"name": "s", "operator": "sum"}]"#
        #expect(specErrors(specJob(dict: dict)) == [#"dict[2]: operator "sum" needs a "field" (the input column to read)"#])
        #expect(specErrors(specFeature(#"{"name": "f", "operator": "sum", "field": 3}"#)) == [
            "dict[0].field: expected the name of an input column (a string), found 3",
        ])
        #expect(specErrors(specFeature(#"{"name": "f", "operator": "sum", "field": ""}"#)) == [
            "dict[0].field: must not be empty; name the input column to read",
        ])
    }

    @Test func window() throws {
        let dict = #"[{"name": "n", "operator": "count"}, {"name": "s", "operator": "sum", "field": "x", "window": "1h"}]"#
        #expect(specErrors(specJob(dict: dict)) == [
            #"dict[1].window: a lookback window needs event time; add "time": "<column>" to the job, or remove the window"#,
        ])
        #expect(try specDecode(specJob(#""time": "ts""#, dict: dict)).spec.features[1].window == EventDuration(microseconds: 3_600_000_000, text: "1h"))
        #expect(specErrors(specFeature(#"{"name": "s", "operator": "count", "window": "0s"}"#)) == [
            #"dict[0].window: a window must be longer than 0s; remove "window" to aggregate over all of the key's events"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "s", "operator": "count", "window": "1 hour"}"#)) == [
            #"dict[0].window: invalid duration "1 hour"; write a whole number and a unit (us, ms, s, m, h, d, w), e.g. "90s", "1h" or "7d""#,
        ])
        #expect(specErrors(specFeature(#"{"name": "s", "operator": "count", "window": "9999999999999w"}"#)) == [
            #"dict[0].window: duration "9999999999999w" is too long: at most about 292,000 years (Int64 microseconds)"#,
        ])
        #expect(specErrors(specFeature(#"{"name": "s", "operator": "count", "window": 60}"#)) == [
            #"dict[0].window: expected a duration string such as "90s", "1h" or "7d", found 60"#,
        ])
    }

    @Test func limit() throws {
        #expect(try specDecode(specFeature(#"{"name": "c", "operator": "collect", "field": "x", "limit": 1}"#)).spec.features[0].limit == 1)
        #expect(specErrors(specFeature(#"{"name": "s", "operator": "sum", "field": "x", "limit": 5}"#)) == [
            #"dict[0].limit: "limit" only applies to operator "collect"; remove it"#,
        ])
        for (value, found) in [("0", "0"), ("2.5", "2.5"), (#""5""#, "a string")] {
            #expect(specErrors(specFeature(#"{"name": "c", "operator": "collect", "field": "x", "limit": \#(value)}"#)) == [
                "dict[0].limit: expected an integer of at least 1 (how many of the newest values to keep), found \(found)",
            ])
        }
    }
}

@Suite struct SpecErrorCollection {
    @Test func collectsEveryErrorInDocumentOrder() {
        // Errors at many places at once; each object's own findings precede its members'.
        let json = """
            {
              "code": "bad code",
              "keys": "card_id",
              "watermark": "5s",
              "maxParallelism": "128",
              "emit": "events",
              "dict": [
                {"name": "n", "operator": "count"},
                {"name": "n", "type": "reducing", "operator": "count_distinct", "field": "m"},
                {"name": "s", "operator": "summ", "feild": "amount"},
                {"name": "w", "operator": "sum", "field": "amount", "window": "1h", "limit": 3}
              ],
              "carry": ["*", "n"],
              "kyes": ["x"]
            }
            """
        #expect(specErrors(json) == [
            #"code: "bad code" is not a valid job code; use only letters, digits, '_', '.' and '-'"#,
            #"keys: expected an array of column names, e.g. ["card_id"]"#,
            #"watermark: a watermark needs event time; add "time": "<column>" to the job, or remove "watermark""#,
            "maxParallelism: expected an integer from 1 to 32768, found a string",
            #"emit: unknown emission "events"; did you mean "event"? use "event", or an object for windows such as {"tumbling": "1m"}"#,
            #"dict[1]: operator "count_distinct" needs type "map", not "reducing""#,
            #"dict[1].name: "n" is already used by dict[0]; feature names must be unique"#,
            #"dict[2].operator: unknown operator "summ"; did you mean "sum"?"#,
            #"dict[2].feild: unknown key; did you mean "field"?"#,
            #"dict[3].window: a lookback window needs event time; add "time": "<column>" to the job, or remove the window"#,
            #"dict[3].limit: "limit" only applies to operator "collect"; remove it"#,
            #"carry[0]: "*" carries every column and cannot be mixed with column names; use ["*"] alone or list the columns"#,
            #"carry[1]: "n" is also the name of a feature (dict[0]); rename the feature or stop carrying the column"#,
            #"kyes: unknown key; did you mean "keys"?"#,
        ])
    }

    @Test func diagnosticsCarrySeverityPathAndMessage() {
        do {
            _ = try specDecode(specJob(#""maxParallelism": 0"#))
            Issue.record("accepted maxParallelism 0")
        } catch {
            #expect(error.diagnostics == [SpecDiagnostic(.error, path: "maxParallelism", "expected an integer from 1 to 32768, found 0")])
            #expect(error.description == "maxParallelism: expected an integer from 1 to 32768, found 0")
        }
    }
}

@Test func timeColumnCannotAlsoBeAKey() throws {
    let json = #"{"code":"t","keys":["ts"],"time":"ts","dict":[{"name":"c","operator":"count"}]}"#
    #expect(throws: SpecErrors.self) { _ = try JobSpec.decode(Array(json.utf8)) }
    do { _ = try JobSpec.decode(Array(json.utf8)) } catch {
        #expect(error.diagnostics.map(\.description) == [#"time: "ts" is also a key column; key by other columns, or use another time column"#])
    }
}
