import Testing
@testable import Eddy

@Test func quoteEscapesOnlyWhatJSONRequires() {
    #expect(JSONText.quote("plain") == "\"plain\"")
    #expect(JSONText.quote("a\"b\\c") == "\"a\\\"b\\\\c\"")
    #expect(JSONText.quote("\n\r\t\u{08}\u{0C}") == "\"\\n\\r\\t\\b\\f\"")
    #expect(JSONText.quote("\u{01}x\u{1F}") == "\"\\u0001x\\u001f\"")
    #expect(JSONText.quote("a/b é 😀 \u{7F}") == "\"a/b é 😀 \u{7F}\"")
    #expect(JSONText.quote("") == "\"\"")
}

@Test func appendQuotedMatchesQuote() {
    for s in ["", "x", "tab\there", "quote\"", "\u{00}\u{1B}", "ünïcødé\\", String(repeating: "ab\n", count: 50)] {
        var out: [UInt8] = [0x41]
        withBytes(s) { JSONText.appendQuoted($0, to: &out) }
        #expect(out == [0x41] + Array(JSONText.quote(s).utf8))
    }
}

@Test func unquoteDecodesEscapes() {
    #expect(JSONText.unquote(#""abc""#) == "abc")
    #expect(JSONText.unquote(#""a\"b\\c\/d""#) == "a\"b\\c/d")
    #expect(JSONText.unquote(#""\b\f\n\r\t""#) == "\u{08}\u{0C}\n\r\t")
    #expect(JSONText.unquote(#""\u0041\u00e9\u20AC""#) == "Aé€")
    #expect(JSONText.unquote(#""\ud83d\ude00""#) == "😀")
    #expect(JSONText.unquote(#""😀 literal""#) == "😀 literal")
    #expect(JSONText.unquote(#""""#) == "")
}

@Test func unquoteRejectsInvalidLiterals() {
    for bad in [#"abc"#, #""abc"#, #"abc""#, "\"", #""\x""#, #""\u12""#, #""\u12G4""#,
                #""\ud83d""#, #""\ude00""#, #""\ud83d\u0041""#, "\"a\nb\"", #""a"b""#, #""trailing\""#] {
        #expect(JSONText.unquote(bad) == nil, "\(bad)")
    }
}

@Test func quoteAndUnquoteRoundTrip() {
    for s in ["", "simple", "\u{00}\u{1F}\u{7F}", "mixed \"quotes\" and \\ slashes", "日本語", "🎉\n🎉"] {
        #expect(JSONText.unquote(JSONText.quote(s)) == s)
    }
}
