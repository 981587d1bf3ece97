#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import Eddy

/// Reads `lines` (JSON Lines, the last one possibly without its newline) as the JSON Lines
/// read loop does: a record laid out as the last one through `scanLine` from a zero-padded
/// copy of the bytes, any other split off at its newline and read by `scan`. Returns, per
/// record, its text, its values, its problem and whether `scanLine` read it.
private func readAsTheLoopDoes(
    _ lines: [UInt8], _ fields: [String]
) -> [(record: String, values: [FieldValue], problem: RecordProblem?, readWhereItLies: Bool)] {
    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: lines.count + RecordReader.padding)
    defer { buffer.deallocate() }
    buffer.initialize(repeating: 0, count: lines.count + RecordReader.padding)
    buffer.update(from: lines, count: lines.count)
    var scanner = JSONObjectScanner(fieldNames: fields)
    var values = Array(repeating: FieldValue.missing, count: fields.count)
    var results: [(record: String, values: [FieldValue], problem: RecordProblem?, readWhereItLies: Bool)] = []
    var position = 0
    while position < lines.count {
        let newline = lines[position...].firstIndex(of: 0x0A) ?? lines.count
        var length = newline - position
        if length > 0, lines[newline - 1] == 0x0D { length -= 1 }
        let record = String(decoding: lines[position..<position + length], as: UTF8.self)
        let read = values.withUnsafeMutableBufferPointer { slots in
            scanner.scanLine(ZeroPaddedBytes(start: buffer + position, count: lines.count - position), into: slots)
        }
        if let read {
            // Read through: its end is the line's newline.
            #expect(position + read == newline, "\(record)")
            results.append((record, values, nil, true))
        } else {
            let problem = Array(lines[position..<position + length]).withUnsafeBytes { scanner.scan($0, into: &values) }
            results.append((record, values, problem, false))
        }
        position = newline + 1
    }
    return results
}

/// Every record read from a buffer of lines (`scanLine`, its end found by reading it) gives
/// the values and problem a fresh scanner gives the record split off at its newline: with
/// blanks and carriage returns around and inside records, newlines where a record would go
/// on, bad records, and the last line with and without its newline.
@Test(arguments: [false, true])
func recordsReadFromABufferOfLinesReadAsSplitRecordsDo(finalNewline: Bool) {
    let fields = ["id", "name_of_13_ch", "amount", "ts"]
    let base = #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","amount":40.35,"ts":1699999999566}"#
    let records = [
        base,
        base + "\r",
        base + " \t\r",
        base + "\r\r",
        " \t" + base,
        base,
        #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","amount":40.35,"ts":1699999999566"#,
        base,
        #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","amount":40.35,"ts":"#,
        base,
        #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","amount":40.35,"ts""#,
        base,
        #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","amount":40.35,"#,
        base,
        #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","amount":40.35,"ts":1699999999566} x"#,
        base,
        #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","amount":40.35,"ts":1699999999566}}"#,
        base,
        #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","amount":40.35,"ts":1699999999566,}"#,
        base,
        #"{"id":"c040886", "name_of_13_ch":"m00019","skip":"GB","amount":40.35,"ts":1699999999566}"#,
        #"{"id":"c040886", "name_of_13_ch":"m00019","skip":"GB","amount":40.35,"ts":1699999999566}"#,
        #"{"id":"c040886",\#r"name_of_13_ch":"m00019","skip":"GB","amount":40.35 ,"ts":1699999999566}"#,
        base,
        #"{"id":"c040886","name_of_13_ch":"m00019","skip":"G"#,
        #"B","amount":40.35,"ts":1699999999566}"#,
        base,
        #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","amount":"#,
        #"40.35,"ts":1699999999566}"#,
        base,
        #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","amount": "#,
        #" 40.35,"ts":1699999999566}"#,
        base,
        #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","amount":40.35,"ts":1699999999566"#,
        #"}"#,
        base,
        #"{"id":"c040886","name_of_13_ch":"m00019","skip":"GB","amount":40.35,"ts":169999999"#,
        #"9566}"#,
        base,
        #"{"id":"c040886","name_of_13_ch"#,
        #":"m00019","skip":"GB","amount":40.35,"ts":1699999999566}"#,
        base,
        "",
        "  ",
        base,
        #"{"id":"x","name_of_13_ch":"a string longer than sixteen bytes","skip":"é","amount":-0.5,"ts":1}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"a\\b\/c\u0041","amount":1234567890.123456,"ts":-7}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","amount":1e3,"ts":true}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","amount":1,"ts":1}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","amount":1,"ts":1}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","amount":1,"ts":12"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","amount":1,"ts":"a"}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","amount":1,"ts":"a"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","amount":1,"ts":"a"}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","amount":1,"ts":1}"#,
        // The layout's gaps: fewer members than the last record, blanks before the end or
        // after a colon, and a number that a gap or the end would cut short.
        #"{"id":"x","name_of_13_ch":"m"}"#,
        #"{"id":"x","name_of_13_ch":"m" }"#,
        #"{"id":"x","name_of_13_ch":"m",}"#,
        #"{"id":"x","name_of_13_ch":"m","skip":"GB","amount":1,"ts":1}"#,
        #"{"id": "x","name_of_13_ch":"m","skip":"GB","amount": 1,"ts":1}"#,
        #"{"id": "x","name_of_13_ch":"m","skip":"GB","amount": 1,"ts":1}"#,
        #"{"id": "x","name_of_13_ch":"m","skip":"GB","amount":1,"ts":1}"#,
        #"{"id": "x","name_of_13_ch":"m","skip":"GB","amount":  1,"ts":1}"#,
        #"{"id": "x","name_of_13_ch":"m","skip":"GB","amount": 1.5e1,"ts":1}"#,
        #"{"id": "x","name_of_13_ch":"m","skip":"GB","amount": 1,"ts":1e}"#,
        #"{"id": "x","name_of_13_ch":"m","skip":"GB","amount": 1,"ts":1.}"#,
        #"{"id": "x","name_of_13_ch":"m","skip":"GB","amount": 1,"ts":1 }"#,
        #"{"id": "x","name_of_13_ch":"m","skip":"GB","amount": 1,"ts":1}"#,
        #"{"id": "x" ,"name_of_13_ch":"m","skip":"GB","amount": 1,"ts":1}"#,
        #"{"id": "exactly 15 byte","name_of_13_ch":"fourteen bytes","skip":"sixteen bytes!!!","amount": 1,"ts":1}"#,
        // Strings of 15 bytes with their quotes (the longest read in one load), then 16 and 14.
        #"{"id": "thirteen byte","name_of_13_ch":"fourteen bytes","skip":"twelve bytes","amount": 1,"ts":1}"#,
        #"{"id": "x","name_of_13_ch":"m","skip":"GB","amount": 1,"ts":1}"#,
    ]
    // Each record at the end of the buffer too (without its newline, when `finalNewline` is
    // false), where the bytes after it are the padding.
    for last in records.indices {
        let lines = Array((records[0...last].joined(separator: "\n") + (finalNewline ? "\n" : "")).utf8)
        let read = readAsTheLoopDoes(lines, fields)
        // An empty last line without a newline is no line.
        #expect(read.count == (records[last].isEmpty && !finalNewline ? last : last + 1))
        if last == records.count - 1 {
            // The laid-out records after their like were read where they lie.
            #expect(read.filter(\.readWhereItLies).count >= 20)
        }
        for (index, result) in read.enumerated() {
            #expect(result.record == records[index].trimmingSuffix("\r"), "\(index)")
            let fresh = scanJSON(result.record, fields)
            #expect(result.problem == fresh.problem, "\(result.record)")
            #expect(result.values == fresh.values, "\(result.record)")
        }
    }
}

/// A record read on its own may hold newlines between its tokens: the layout it leaves
/// must not let `scanLine` read a line on into the next one.
@Test func aLayoutLearnedAcrossNewlinesNeverReadsPastALine() {
    let fields = ["id", "name"]
    let multiline = "{\"id\":\"x\",\n\"name\":\"m\"}"
    var scanner = JSONObjectScanner(fieldNames: fields)
    var values = Array(repeating: FieldValue.missing, count: fields.count)
    #expect(Array(multiline.utf8).withUnsafeBytes { scanner.scan($0, into: &values) } == nil)
    #expect(values == scanJSON(multiline, fields).values)
    let lines = Array((multiline + "\n" + #"{"id":"y","name":"n"}"# + "\n").utf8)
    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: lines.count + RecordReader.padding)
    defer { buffer.deallocate() }
    buffer.initialize(repeating: 0, count: lines.count + RecordReader.padding)
    buffer.update(from: lines, count: lines.count)
    let read = values.withUnsafeMutableBufferPointer { slots in
        scanner.scanLine(ZeroPaddedBytes(start: buffer, count: lines.count), into: slots)
    }
    #expect(read == nil)
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

/// Records taken with `takeRecord` after finding their newline in `unreadBytes` are the
/// ones `nextBufferedRecord` hands out, with the same lines, offsets and resume positions,
/// across refills of a small buffer; the byte after the unread bytes is always zero.
@Test(arguments: [1, 2, 7, 64, 1 << 20])
func recordsTakenWhereTheyLieMatchTheSplitRecords(chunk: Int) throws {
    let text = "{\"a\":1}\n\n{\"a\":22}\r\n  \n{\"a\":333}\n{}\r\n{\"a\":4}"
    func reader() -> (RecordReader, Int32) {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        _ = Array(text.utf8).withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        return (RecordReader(fileDescriptor: fds[0], format: .jsonl, chunkSize: chunk), fds[0])
    }
    typealias Taken = (record: String, line: Int, offset: Int64, next: ReadPosition)
    var expected: [Taken] = []
    do {
        let (split, fd) = reader()
        defer { close(fd) }
        repeat {
            while let (record, line, offset) = split.nextBufferedRecord() {
                expected.append((String(decoding: record, as: UTF8.self), line, offset, split.next))
            }
        } while try split.readMore(afterChunk: {})
    }
    var taken: [Taken] = []
    let (whereTheyLie, fd) = reader()
    defer { close(fd) }
    repeat {
        while true {
            let unread = whereTheyLie.unreadBytes
            #expect(unread.start[unread.count] == 0)
            let bytes = UnsafeBufferPointer(start: unread.start, count: unread.count)
            // Records that start with a brace are taken where they lie, the others split.
            if unread.count > 0, bytes[0] == UInt8(ascii: "{"), let newline = bytes.firstIndex(of: 0x0A) {
                let (record, line, offset) = whereTheyLie.takeRecord(newlineAt: newline)
                taken.append((String(decoding: record, as: UTF8.self), line, offset, whereTheyLie.next))
            } else if let (record, line, offset) = whereTheyLie.nextBufferedRecord() {
                taken.append((String(decoding: record, as: UTF8.self), line, offset, whereTheyLie.next))
            } else {
                break
            }
        }
    } while try whereTheyLie.readMore(afterChunk: {})
    #expect(taken.map(\.record) == expected.map(\.record))
    #expect(taken.map(\.line) == expected.map(\.line))
    #expect(taken.map(\.offset) == expected.map(\.offset))
    #expect(taken.map(\.next) == expected.map(\.next))
    #expect(expected.map(\.record) == ["{\"a\":1}", "{\"a\":22}", "{\"a\":333}", "{}", "{\"a\":4}"])
}
