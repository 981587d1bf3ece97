import Foundation
import Testing
@testable import Eddy

/// Reads `text` through a pipe with a tiny chunk size, so that records cross chunk boundaries.
private func records(_ text: String, format: InputFormat, chunkSize: Int = 7) throws -> [(String, Int, Int64)] {
    var descriptors: [Int32] = [0, 0]
    #expect(pipe(&descriptors) == 0)
    let bytes = Array(text.utf8)
    let writeEnd = descriptors[1]
    let writer = Thread {
        bytes.withUnsafeBytes { buffer in
            var start = 0
            while start < buffer.count {
                let written = write(writeEnd, buffer.baseAddress! + start, buffer.count - start)
                if written <= 0 { break }
                start += written
            }
        }
        close(writeEnd)
    }
    writer.start()
    defer { close(descriptors[0]) }
    var result: [(String, Int, Int64)] = []
    let reader = RecordReader(fileDescriptor: descriptors[0], format: format, chunkSize: chunkSize)
    try reader.forEachRecord { record, line, offset in
        result.append((String(decoding: record, as: UTF8.self), line, offset))
        return true
    }
    #expect(reader.bytesRead == Int64(bytes.count))
    return result
}

@Test(arguments: [1, 3, 7, 64, 1 << 20])
func jsonLinesCrossChunkBoundariesWithLinesAndOffsets(chunkSize: Int) throws {
    let text = "{\"a\":1}\r\n\n   \n{\"b\":\"long value here\"}\n{\"c\":3}"
    let found = try records(text, format: .jsonl, chunkSize: chunkSize)
    #expect(found.map(\.0) == ["{\"a\":1}", "{\"b\":\"long value here\"}", "{\"c\":3}"])
    #expect(found.map(\.1) == [1, 4, 5])
    #expect(found.map(\.2) == [0, 14, 38])
}

@Test func byteOrderMarkIsSkippedButCountedInOffsets() throws {
    let found = try records("\u{FEFF}{\"a\":1}\n{\"a\":2}\n", format: .jsonl)
    #expect(found.map(\.0) == ["{\"a\":1}", "{\"a\":2}"])
    #expect(found.map(\.2) == [3, 11])
}

@Test func csvQuotedNewlinesStayInTheRecord() throws {
    let text = "a,b\n1,\"two\nlines\"\r\n3,\"x\"\"y\"\n\n4,5"
    let found = try records(text, format: .csv, chunkSize: 5)
    #expect(found.map(\.0) == ["a,b", "1,\"two\nlines\"", "3,\"x\"\"y\"", "4,5"])
    #expect(found.map(\.1) == [1, 2, 4, 6])
}

private func scanCSV(_ record: String, columns: [String], fields: [String]) -> ([FieldValue], RecordProblem?) {
    var scanner = CSVRecordScanner(columns: columns, fieldNames: fields)
    var values = Array(repeating: FieldValue.missing, count: fields.count)
    var copy = record
    let problem = copy.withUTF8 { scanner.scan(UnsafeRawBufferPointer($0), into: &values) }
    return (values, problem)
}

@Test func csvCellsAreTypedByContent() {
    let (values, problem) = scanCSV(
        #"7,"7",,x,"a,""b""",007,1.50"#, columns: ["a", "b", "c", "d", "e", "f", "g"],
        fields: ["a", "b", "c", "d", "e", "f", "g", "missing"])
    #expect(problem == nil)
    #expect(values.map(\.kind) == [.number, .number, .null, .string, .string, .string, .number, .missing])
    #expect(values.map(\.text) == ["7", "7", "null", "\"x\"", #""a,\"b\"""#, "\"007\"", "1.5", ""])
}

@Test func csvProblemsNameWhatIsWrong() {
    #expect(scanCSV("1,2", columns: ["a", "b", "c"], fields: ["a"]).1?.message == "expected 3 fields as in the header, found 2")
    #expect(scanCSV("1,\"2", columns: ["a", "b"], fields: ["a"]).1?.message == "unterminated quoted field")
    #expect(scanCSV("1,a\"b", columns: ["a", "b"], fields: ["a"]).1?.offset == 3)
    #expect(scanCSV("\"1\"x,2", columns: ["a", "b"], fields: ["a"]).1?.message == "expected ',' after a closing quote")
}

@Test func csvHeaderNeedsUniqueNonEmptyNames() throws {
    func header(_ text: String) -> Result<[String], RecordProblem> {
        var copy = text
        return copy.withUTF8 { CSVRecordScanner.parseHeader(UnsafeRawBufferPointer($0)) }
    }
    #expect(try header(#"ts,"host name",x"#).get() == ["ts", "host name", "x"])
    #expect(throws: RecordProblem.self) { try header("a,,b").get() }
    #expect(throws: RecordProblem.self) { try header("a,b,a").get() }
}
