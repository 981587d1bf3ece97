#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import Eddy

private struct Record: Equatable, CustomStringConvertible {
    var text: String
    var line: Int
    var offset: Int64
    var description: String { "(\(text.debugDescription), line \(line), offset \(offset))" }
}

/// Writes `bytes` to a fresh file in its own temp directory and returns an open descriptor.
private func tempFileDescriptor(_ bytes: [UInt8]) -> Int32 {
    var template = Array("/tmp/eddy-io-test-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    let path = dir + "/input"
    let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    lseek(fd, 0, SEEK_SET)
    // The descriptor keeps the file alive; the names can go now.
    unlink(path)
    rmdir(dir)
    return fd
}

private func read(_ bytes: [UInt8], _ format: InputFormat, chunk: Int, viaPipe: Bool = false,
                  stopAfter: Int = .max) throws -> [Record] {
    var records: [Record] = []
    let fd: Int32
    if viaPipe {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        // A writer thread would complicate the test; inputs here fit the pipe buffer.
        _ = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        fd = fds[0]
    } else {
        fd = tempFileDescriptor(bytes)
    }
    defer { close(fd) }
    let reader = RecordReader(fileDescriptor: fd, format: format, chunkSize: chunk)
    try reader.forEachRecord { rec, line, offset in
        records.append(Record(text: String(decoding: rec, as: UTF8.self), line: line, offset: offset))
        return records.count < stopAfter
    }
    if stopAfter == .max { #expect(reader.bytesRead == Int64(bytes.count)) }
    return records
}

private func read(_ text: String, _ format: InputFormat, chunk: Int, viaPipe: Bool = false) throws -> [Record] {
    try read(Array(text.utf8), format, chunk: chunk, viaPipe: viaPipe)
}

@Test(arguments: [1, 2, 7, 64, 1 << 20], [false, true])
func splitsJSONLinesAcrossChunks(chunk: Int, viaPipe: Bool) throws {
    let input = "{\"a\":1}\n\n{\"b\":\"long value that spans several chunks\"}\r\n   \n\t\r\n{\"c\":3}"
    let records = try read(input, .jsonl, chunk: chunk, viaPipe: viaPipe)
    #expect(records == [
        Record(text: "{\"a\":1}", line: 1, offset: 0),
        Record(text: "{\"b\":\"long value that spans several chunks\"}", line: 3, offset: 9),
        Record(text: "{\"c\":3}", line: 6, offset: 62),
    ])
}

@Test(arguments: [1, 3, 7, 4096])
func skipsByteOrderMarkButCountsItInOffsets(chunk: Int) throws {
    let records = try read([0xEF, 0xBB, 0xBF] + Array("{}\n{\"x\":1}\n".utf8), .jsonl, chunk: chunk)
    #expect(records == [Record(text: "{}", line: 1, offset: 3), Record(text: "{\"x\":1}", line: 2, offset: 6)])
    // A BOM later in the stream is data, not skipped.
    let later = try read(Array("{}\n".utf8) + [0xEF, 0xBB, 0xBF] + Array("x\n".utf8), .jsonl, chunk: chunk)
    #expect(later.map(\.text) == ["{}", "\u{FEFF}x"])
}

@Test func handlesEmptyAndTerminatorOnlyInputs() throws {
    #expect(try read("", .jsonl, chunk: 7).isEmpty)
    #expect(try read("\n\r\n  \n", .jsonl, chunk: 7).isEmpty)
    #expect(try read("", .csv, chunk: 7).isEmpty)
    #expect(try read("x", .jsonl, chunk: 7) == [Record(text: "x", line: 1, offset: 0)])
    #expect(try read("x\r", .jsonl, chunk: 1) == [Record(text: "x", line: 1, offset: 0)])
}

@Test(arguments: [1, 2, 7, 1 << 20], [false, true])
func keepsQuotedNewlinesInsideCSVRecords(chunk: Int, viaPipe: Bool) throws {
    let input = "id,note\r\n1,\"two\nlines\"\r\n\r\n2,\"quote \"\"x\"\"\nand \"\"\n\"\"\"\n3,plain"
    let records = try read(input, .csv, chunk: chunk, viaPipe: viaPipe)
    #expect(records == [
        Record(text: "id,note", line: 1, offset: 0),
        Record(text: "1,\"two\nlines\"", line: 2, offset: 9),
        Record(text: "2,\"quote \"\"x\"\"\nand \"\"\n\"\"\"", line: 5, offset: 26),
        Record(text: "3,plain", line: 8, offset: 52),
    ])
}

@Test func keepsCSVLinesOfSpacesButSkipsEmptyOnes() throws {
    let records = try read("a\n \n\n\r\nb\n", .csv, chunk: 7)
    #expect(records == [
        Record(text: "a", line: 1, offset: 0), Record(text: " ", line: 2, offset: 2), Record(text: "b", line: 5, offset: 7),
    ])
}

@Test func passesAnUnterminatedQuotedCSVRecordAtTheEnd() throws {
    let records = try read("a\n\"open\nstill open", .csv, chunk: 3)
    #expect(records == [Record(text: "a", line: 1, offset: 0), Record(text: "\"open\nstill open", line: 2, offset: 2)])
}

@Test func stopsWhenTheBodyReturnsFalse() throws {
    let records = try read(Array("1\n2\n3\n4\n".utf8), .jsonl, chunk: 2, stopAfter: 2)
    #expect(records.map(\.text) == ["1", "2"])
}

@Test func growsTheBufferForRecordsLongerThanTheChunk() throws {
    let long = String(repeating: "x", count: 10_000)
    let records = try read("\(long)\nshort\n\(long)", .jsonl, chunk: 16)
    #expect(records == [
        Record(text: long, line: 1, offset: 0), Record(text: "short", line: 2, offset: 10_001),
        Record(text: long, line: 3, offset: 10_007),
    ])
}

@Test func manyRecordsMatchASimpleSplit() throws {
    var text = ""
    for k in 0..<5000 { text += "{\"k\":\(k),\"s\":\"\(String(repeating: "y", count: k % 37))\"}\n" }
    let records = try read(text, .jsonl, chunk: 7)
    let expected = text.split(separator: "\n").map(String.init)
    #expect(records.map(\.text) == expected)
    #expect(records.map(\.line) == Array(1...5000))
    var offset: Int64 = 0
    for (k, record) in records.enumerated() {
        #expect(record.offset == offset, "record \(k)")
        offset += Int64(record.text.utf8.count + 1)
    }
}

@Test func propagatesErrorsFromTheBody() {
    struct Stop: Error {}
    let fd = tempFileDescriptor(Array("a\nb\n".utf8))
    defer { close(fd) }
    let reader = RecordReader(fileDescriptor: fd, format: .jsonl)
    #expect(throws: Stop.self) {
        try reader.forEachRecord { _, _, _ in throw Stop() }
    }
}

@Test func reportsReadErrorsWithTheSystemMessage() {
    let reader = RecordReader(fileDescriptor: -1, format: .jsonl)
    do {
        try reader.forEachRecord { _, _, _ in true }
        Issue.record("expected a read error")
    } catch let error as IOError {
        #expect(error.description == "cannot read input: Bad file descriptor")
    } catch {
        Issue.record("unexpected error \(error)")
    }
}

@Test func readsAJSONLFileEndToEndWithTheScanner() throws {
    let input = "{\"card_id\":\"c1\",\"amount\":1.50}\n{\"card_id\":\"c2\",\"amount\":2}\nnot json\n"
    let fd = tempFileDescriptor(Array(input.utf8))
    defer { close(fd) }
    var scanner = JSONObjectScanner(fieldNames: ["card_id", "amount"])
    var values = Array(repeating: FieldValue.missing, count: 2)
    var seen: [String] = []
    try RecordReader(fileDescriptor: fd, format: .jsonl, chunkSize: 5).forEachRecord { rec, line, _ in
        if let problem = scanner.scan(rec, into: &values) {
            seen.append("line \(line): \(problem.message) at \(problem.offset)")
        } else {
            seen.append(values.map(\.text).joined(separator: " "))
        }
        return true
    }
    #expect(seen == ["\"c1\" 1.5", "\"c2\" 2", "line 3: record is not a JSON object at 0"])
}

@Test(arguments: [InputFormat.jsonl, .csv])
func refusesARecordLongerThanTheLimitWithItsPlace(format: InputFormat) throws {
    // Two short records, then one that never ends (as /dev/zero or a CSV quote left open).
    let tail = format == .csv ? "\"" + String(repeating: "x\n", count: 40) : String(repeating: "x", count: 80)
    let fd = tempFileDescriptor(Array("a\nb\n\(tail)".utf8))
    defer { close(fd) }
    var seen: [String] = []
    let reader = RecordReader(fileDescriptor: fd, format: format, chunkSize: 4, maxRecordBytes: 32)
    do {
        try reader.forEachRecord { rec, _, _ in
            seen.append(String(decoding: rec, as: UTF8.self))
            return true
        }
        Issue.record("expected a too-long record error")
    } catch let error as IOError {
        #expect(error.description.hasPrefix("line 3 (byte 4): a record runs past 32 bytes without a line end; "))
    }
    #expect(seen == ["a", "b"])
}

@Test func readsARecordJustUnderTheLimit() throws {
    let long = String(repeating: "y", count: 31)
    let records = try {
        let fd = tempFileDescriptor(Array("a\n\(long)\nb".utf8))
        defer { close(fd) }
        var texts: [String] = []
        try RecordReader(fileDescriptor: fd, format: .jsonl, chunkSize: 4, maxRecordBytes: 32).forEachRecord { rec, _, _ in
            texts.append(String(decoding: rec, as: UTF8.self))
            return true
        }
        return texts
    }()
    #expect(records == ["a", long, "b"])
}
