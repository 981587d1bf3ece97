import Testing
@testable import Eddy

private func header(_ text: String) -> Result<[String], RecordProblem> {
    withBytes(text) { CSVRecordScanner.parseHeader($0) }
}

private func scanCSV(_ record: String, columns: [String], fields: [String]) -> ([FieldValue], RecordProblem?) {
    var scanner = CSVRecordScanner(columns: columns, fieldNames: fields)
    var values = Array(repeating: FieldValue.missing, count: fields.count)
    let problem = withBytes(record) { scanner.scan($0, into: &values) }
    return (values, problem)
}

@Test func parsesHeaderWithQuoting() throws {
    #expect(try header("card_id,amount,ts").get() == ["card_id", "amount", "ts"])
    #expect(try header(#""card id","a,b","say ""hi""",x"#).get() == ["card id", "a,b", "say \"hi\"", "x"])
    #expect(try header("only").get() == ["only"])
}

@Test func rejectsBadHeaders() throws {
    #expect(header("a,,c") == .failure(RecordProblem(offset: 2, message: "column 2 has an empty name")))
    #expect(header("a,b,") == .failure(RecordProblem(offset: 4, message: "column 3 has an empty name")))
    #expect(header(#"a,"""#) == .failure(RecordProblem(offset: 2, message: "column 2 has an empty name")))
    #expect(header("a,b,a") == .failure(RecordProblem(offset: 4, message: #"duplicate column name "a""#)))
    // Column names match by bytes, as JSON members do: "é" composed and decomposed are two.
    #expect(try header("\u{E9},e\u{301}").get() == ["\u{E9}", "e\u{301}"])
    #expect(header(#"a,"b"#) == .failure(RecordProblem(offset: 2, message: "unterminated quoted field")))
    #expect(header(#"a,"b"c"#) == .failure(RecordProblem(offset: 5, message: "expected ',' after a closing quote")))
    #expect(header([0x61, 0x2C, 0xFF]) == .failure(RecordProblem(offset: 2, message: "invalid UTF-8")))
}

private func header(_ bytes: [UInt8]) -> Result<[String], RecordProblem> {
    withBytes(bytes) { CSVRecordScanner.parseHeader($0) }
}

@Test func fieldsMatchColumnsByTheirBytes() {
    let (values, problem) = scanCSV("1,2", columns: ["e\u{301}", "\u{E9}"], fields: ["\u{E9}"])
    #expect(problem == nil)
    #expect(values == [int(2)])
}

@Test func typesCellsRegardlessOfQuotes() {
    let columns = ["s", "i", "d", "e", "q", "qn", "neg", "lead", "t"]
    let (values, problem) = scanCSV(#"c012345,42,20.10,,"","  7",-0,007,true"#, columns: columns, fields: columns)
    #expect(problem == nil)
    #expect(values == [
        str("\"c012345\""), int(42), dbl("20.1", 20.1), .null, .null, str("\"  7\""),
        FieldValue(kind: .number, text: "0", number: 0, integer: 0), str("\"007\""), str("\"true\""),
    ])
    let (quoted, _) = scanCSV(#""42","1E3""#, columns: ["a", "b"], fields: ["a", "b"])
    #expect(quoted == [int(42), dbl("1000.0", 1000)])
}

@Test func unescapesQuotedFieldsAndKeepsEmbeddedNewlines() {
    let (values, problem) = scanCSV("\"say \"\"hi\"\"\",\"line1\nline2\",\"a,b\",\"tab\there\"",
                                    columns: ["a", "b", "c", "d"], fields: ["a", "b", "c", "d"])
    #expect(problem == nil)
    #expect(values.map(\.text) == [#""say \"hi\"""#, #""line1\nline2""#, #""a,b""#, #""tab\there""#])
    #expect(values.allSatisfy { $0.kind == .string })
}

@Test func selectsFieldsByHeaderName() {
    let columns = ["card_id", "merchant", "country", "amount", "ts"]
    let (values, problem) = scanCSV("c1,m2,US,9.5,1700000000000", columns: columns,
                                    fields: ["ts", "card_id", "nope", "amount", "ts"])
    #expect(problem == nil)
    #expect(values == [int(1_700_000_000_000), str("\"c1\""), .missing, dbl("9.5", 9.5), int(1_700_000_000_000)])
}

@Test func reportsFieldCountMismatch() {
    let columns = ["a", "b", "c", "d", "e"]
    #expect(scanCSV("1,2,3,4", columns: columns, fields: ["a"]).1
        == RecordProblem(offset: 7, message: "expected 5 fields as in the header, found 4"))
    #expect(scanCSV("1,2,3,4,5,6,7", columns: columns, fields: ["a"]).1
        == RecordProblem(offset: 10, message: "expected 5 fields as in the header, found 7"))
    #expect(scanCSV("1,2", columns: ["a"], fields: ["a"]).1
        == RecordProblem(offset: 2, message: "expected 1 field as in the header, found 2"))
    #expect(scanCSV("", columns: ["a", "b"], fields: ["a"]).1
        == RecordProblem(offset: 0, message: "expected 2 fields as in the header, found 1"))
    #expect(scanCSV("", columns: ["a"], fields: ["a"]).0 == [.null])
}

@Test func reportsQuotingProblems() {
    let columns = ["a", "b"]
    #expect(scanCSV(#"1,"open"#, columns: columns, fields: ["a"]).1
        == RecordProblem(offset: 2, message: "unterminated quoted field"))
    #expect(scanCSV(#"1,"x"y"#, columns: columns, fields: ["a"]).1
        == RecordProblem(offset: 5, message: "expected ',' after a closing quote"))
    #expect(scanCSV(#"ab"c,1"#, columns: columns, fields: ["a"]).1
        == RecordProblem(offset: 2, message: "unexpected '\"' in an unquoted field"))
    let bad = withBytes([0x31, 0x2C, 0xC3, 0x28]) { buf -> RecordProblem? in
        var scanner = CSVRecordScanner(columns: columns, fieldNames: ["a"])
        var values = [FieldValue.missing]
        return scanner.scan(buf, into: &values)
    }
    #expect(bad == RecordProblem(offset: 2, message: "invalid UTF-8"))
}

@Test func capturesAllColumnsAndResetsBetweenRecords() {
    var scanner = CSVRecordScanner(columns: ["k", "v"], fieldNames: ["v"], captureAllMembers: true)
    var values = [FieldValue.missing]
    #expect(withBytes("a,1") { scanner.scan($0, into: &values) } == nil)
    #expect(scanner.members.map(\.name) == ["k", "v"])
    #expect(scanner.members.map(\.value) == [str("\"a\""), int(1)])
    #expect(values == [int(1)])
    #expect(withBytes("b,") { scanner.scan($0, into: &values) } == nil)
    #expect(scanner.members.map(\.value) == [str("\"b\""), .null])
    #expect(values == [.null])
}
