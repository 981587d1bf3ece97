import Foundation
import Glibc
import Testing
@testable import Eddy

@Suite("ByteSink")
struct ByteSinkTests {
    /// A second close does not close the descriptor number again: by then it may be another
    /// file's (here the next one opened, which gets the lowest free number).
    @Test func closingTwiceClosesTheDescriptorOnce() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out").path
        let sink = try ByteSink.create(path: path)
        sink.buffer.append(contentsOf: Array("one line\n".utf8))
        try sink.close()
        let other = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(other) }
        #expect(other >= 0)
        try sink.close()
        #expect(fcntl(other, F_GETFD) != -1, "the second close closed descriptor \(other), which the sink no longer owned")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "one line\n")
    }
}

/// A pipe whose write end does not block: with nobody reading, a write stops where the pipe
/// is full (64 KiB on Linux) and the next one fails with EAGAIN, as a slow or stopped reader
/// of stdout makes eddy's writes fail part way.
private struct FullablePipe {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        readEnd = ends[0]
        writeEnd = ends[1]
        try #require(fcntl(writeEnd, F_SETFL, O_NONBLOCK) == 0)
        try #require(fcntl(readEnd, F_SETFL, O_NONBLOCK) == 0)
    }

    /// What the pipe holds now, and whether every write end is closed (read saw end of file).
    func drain() -> (bytes: [UInt8], atEndOfFile: Bool) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = read(readEnd, &chunk, chunk.count)
            if count > 0 { bytes += chunk[0..<count]; continue }
            return (bytes, count == 0)
        }
    }
}

private func patternBytes(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 % 251) } }

extension ByteSinkTests {
    /// A close whose flush fails part way (here: the pipe is full) still closes the
    /// descriptor, and closing again does not send the bytes that already went out a second
    /// time. The flush used to start over from the buffer's first byte, and the descriptor
    /// stayed open, so a reader got the first 64 KiB once per attempt.
    @Test func aFailedCloseClosesTheDescriptorAndAnotherCloseSendsNothingTwice() throws {
        let pipe = try FullablePipe()
        defer { close(pipe.readEnd) }
        let sink = ByteSink(descriptor: pipe.writeEnd, name: "pipe", closesDescriptor: true)
        let payload = patternBytes(100_000)
        sink.buffer.append(contentsOf: payload)
        #expect(throws: IOError.self) { try sink.close() }
        let sent = Int(sink.bytesWritten)
        #expect(sent > 0 && sent < payload.count, "the pipe took \(sent) of \(payload.count) bytes")
        try sink.close()
        let received = pipe.drain()
        #expect(received.bytes == Array(payload.prefix(sent)), "received \(received.bytes.count) bytes, \(sent) were sent")
        #expect(received.atEndOfFile, "the failed close left the pipe's write end open")
    }

    /// A flush that fails part way keeps only what did not go out: the next flush writes
    /// the rest, so the reader gets every byte once, and `bytesWritten` counts each once.
    @Test func aFlushAfterAPartialWriteContinuesWhereTheLastOneStopped() throws {
        let pipe = try FullablePipe()
        defer { close(pipe.readEnd) }
        let sink = ByteSink(descriptor: pipe.writeEnd, name: "pipe", closesDescriptor: true)
        let payload = patternBytes(200_000)
        sink.buffer.append(contentsOf: payload)
        var received: [UInt8] = []
        var failures = 0
        while true {
            do {
                try sink.flush()
                break
            } catch {
                failures += 1
                #expect(Int(sink.bytesWritten) + sink.buffer.count == payload.count)
                received += pipe.drain().bytes
                try #require(failures < 100, "the flush makes no progress")
            }
        }
        #expect(failures > 0, "the pipe never filled: the test did not exercise a partial write")
        try sink.close()
        let rest = pipe.drain()
        received += rest.bytes
        #expect(received == payload, "received \(received.count) bytes, \(payload.count) were buffered")
        #expect(sink.bytesWritten == Int64(payload.count))
        #expect(rest.atEndOfFile)
    }

    /// A sink released without `close()` (a run that failed before closing it) closes the
    /// descriptor it opened, and writes nothing: what it buffered was never committed.
    @Test func aReleasedSinkClosesItsDescriptorWithoutWriting() throws {
        let pipe = try FullablePipe()
        defer { close(pipe.readEnd) }
        var sink: ByteSink? = ByteSink(descriptor: pipe.writeEnd, name: "pipe", closesDescriptor: true)
        sink?.buffer.append(contentsOf: Array("not committed\n".utf8))
        sink = nil
        let received = pipe.drain()
        #expect(received.bytes.isEmpty)
        #expect(received.atEndOfFile, "the released sink left the pipe's write end open")
    }
}
