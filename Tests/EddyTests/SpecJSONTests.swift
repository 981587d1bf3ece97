import Testing
@testable import Eddy

/// The first diagnostic's text for a document that must fail to parse.
private func parseError(_ text: String) -> String? {
    do {
        _ = try SpecJSON.parse(text)
        return nil
    } catch {
        return error.diagnostics.map(\.description).joined(separator: "\n")
    }
}

@Suite struct SpecJSONParsing {
    @Test func parsesEveryValueKindAndKeepsMemberOrder() throws {
        let value = try SpecJSON.parse(#"{"z": null, "a": [true, false, -12, 1.5, 2e3, "x"], "m": {}}"#)
        guard case .object(let members) = value else {
            Issue.record("not an object: \(value)")
            return
        }
        // Order as written, not sorted: diagnostics follow document order.
        #expect(members.map(\.key) == ["z", "a", "m"])
        #expect(members[0].value == .null)
        #expect(members[1].value == .array([
            .bool(true), .bool(false), .number(-12, isInteger: true), .number(1.5, isInteger: false),
            .number(2000, isInteger: false), .string("x"),
        ]))
        #expect(members[2].value == .object([]))
        #expect(value["a"] != nil)
        #expect(value["missing"] == nil)
    }

    @Test func integerFlagDistinguishesLiteralsNotValues() throws {
        // 128.0 equals 128 as a Double, but a spec asking for an integer should see the
        // user wrote a fraction.
        #expect(try SpecJSON.parse("128") == .number(128, isInteger: true))
        #expect(try SpecJSON.parse("128.0") == .number(128, isInteger: false))
        #expect(try SpecJSON.parse("-0") == .number(-0.0, isInteger: true))
    }

    @Test func equalityComparesObjectsMemberByMemberInOrder() {
        let ab = SpecJSON.object([(key: "a", value: .null), (key: "b", value: .bool(true))])
        let ba = SpecJSON.object([(key: "b", value: .bool(true)), (key: "a", value: .null)])
        #expect(ab == ab)
        #expect(ab != ba)
        #expect(SpecJSON.number(1, isInteger: true) != .number(1, isInteger: false))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try SpecJSON.parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#)
        #expect(value == .string("a\"b\\c/d\n\té😀"))
        #expect(try SpecJSON.parse("\"café\"") == .string("café"))
    }

    @Test func skipsByteOrderMark() throws {
        #expect(try SpecJSON.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == .array([.number(1, isInteger: true)]))
    }

    @Test func reportsLineAndColumnOfSyntaxErrors() {
        let text = """
            {
              "code": "x",
              "keys": ["a"]]
            }
            """
        #expect(parseError(text) == "$: line 3, column 16: expected ',' or '}' after a member, found ']'")
    }

    @Test func columnsCountCharactersNotBytes() {
        // "é" is two UTF-8 bytes but one column in an editor.
        #expect(parseError(#"["é" x]"#) == "$: line 1, column 6: expected ',' or ']' after an element, found 'x'")
    }

    @Test(arguments: [
        ("", "line 1, column 1: expected a JSON value, found end of input (the file is empty)"),
        ("[1, 2,]", "line 1, column 7: expected a JSON value after ',', found ']' (trailing commas are not allowed)"),
        (#"{"a": 1,}"#, "line 1, column 9: expected a member name (a string in double quotes), found '}' (trailing commas are not allowed)"),
        (#"{"a" 1}"#, "line 1, column 6: expected ':' after member name \"a\", found '1'"),
        ("{'a': 1}", "line 1, column 2: expected a member name (a string in double quotes), found \"'\"; JSON strings use double quotes"),
        ("['a']", "line 1, column 2: expected a JSON value, found \"'\"; JSON strings use double quotes"),
        ("[True]", "line 1, column 2: expected a JSON value, found True; JSON literals are lowercase: true"),
        ("[card_id]", "line 1, column 2: expected a JSON value, found card_id; strings need double quotes"),
        ("[01]", "line 1, column 3: numbers must not have leading zeros"),
        ("[1.]", "line 1, column 4: expected a digit after '.', found ']'"),
        ("[-]", "line 1, column 3: expected a digit after '-', found ']'"),
        ("[1e999]", "line 1, column 2: number 1e999 is out of range"),
        ("{} {}", "line 1, column 4: expected end of input after the JSON value, found '{'"),
        ("\n\n  \"abc", "line 3, column 3: string is not terminated (missing closing '\"')"),
        ("\"a\nb\"", "line 1, column 3: a line break inside a string; escape it (\\n, \\t, \\u00XX) or close the string"),
        (#""\x""#, "line 1, column 2: invalid escape; use one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX"),
        (#""\ud83d""#, "line 1, column 2: unpaired UTF-16 surrogate in \\u escape"),
        ("[1", "line 1, column 3: expected ',' or ']' after an element, found end of input"),
    ])
    func syntaxErrorMessages(text: String, message: String) {
        #expect(parseError(text) == "$: " + message)
    }

    @Test func rejectsInvalidUTF8InStrings() {
        #expect(parseError("\"\u{01}\"") == "$: line 1, column 2: control character U+0001 inside a string; escape it (\\n, \\t, \\u00XX) or close the string")
        do {
            _ = try SpecJSON.parse([0x22, 0xFF, 0x22])
            Issue.record("invalid UTF-8 accepted")
        } catch {
            #expect(error.diagnostics.map(\.description) == ["$: line 1, column 1: string is not valid UTF-8"])
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text = String(repeating: "[", count: 10_000)
        #expect(parseError(text) == "$: line 1, column 257: arrays and objects nest deeper than 256 levels")
    }

    @Test func reportsEveryDuplicateKeyAtTheObjectsPath() {
        let text = """
            {"code": "a", "dict": [{"name": "x"}, {"name": "y", "operator": "sum", "name": "z"}], "code": "b"}
            """
        do {
            _ = try SpecJSON.parse(text)
            Issue.record("duplicates accepted")
        } catch {
            #expect(error.diagnostics.map(\.description) == [
                #"dict[1]: duplicate key "name" at line 1, column 72: name each key once"#,
                #"$: duplicate key "code" at line 1, column 87: name each key once"#,
            ])
        }
    }

    @Test func quotesAwkwardKeysInPaths() {
        do {
            _ = try SpecJSON.parse(#"{"a b": {"k": 1, "k": 2}}"#)
            Issue.record("duplicate accepted")
        } catch {
            #expect(error.diagnostics.map(\.description) == [#"$["a b"]: duplicate key "k" at line 1, column 18: name each key once"#])
        }
    }
}
