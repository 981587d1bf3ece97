import Testing
@testable import Eddy

@Test func absentValuesAreMissingAndNull() {
    #expect(FieldValue.missing.isAbsent)
    #expect(FieldValue.null.isAbsent)
    #expect(!FieldValue(kind: .number, text: "1", number: 1, integer: 1).isAbsent)
}
