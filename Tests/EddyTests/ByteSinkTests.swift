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
