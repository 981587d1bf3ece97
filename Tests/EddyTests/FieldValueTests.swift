import Testing
@testable import Eddy

@Test func absentValuesAreMissingAndNull() {
    #expect(FieldValue.missing.isAbsent)
    #expect(FieldValue.null.isAbsent)
    #expect(!FieldValue(kind: .number, text: "1", number: 1, integer: 1).isAbsent)
}

@Test(arguments: [("a", "b"), ("", "a"), ("ab", "abc"), ("Z", "a"), ("f", "é"), ("\u{7F}", "é"), ("x\u{0}", "x\u{1}")])
func utf8OrderIsByteOrder(smaller: String, larger: String) {
    #expect(smaller.utf8Precedes(larger))
    #expect(!larger.utf8Precedes(smaller))
    #expect(!smaller.utf8Precedes(smaller))
}
