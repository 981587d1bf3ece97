import Foundation
import Glibc
import Testing
@testable import Eddy

/// Runs the sum job over `input` (JSON Lines) without checkpoints, writing to `outputs`.
private func runWithoutCheckpoints(_ input: String, in directory: URL, outputs: OutputPaths) throws -> RunSummary {
    let inputPath = directory.appendingPathComponent("input.jsonl").path
    try input.write(toFile: inputPath, atomically: false, encoding: .utf8)
    return try runJob(
        plan: JobPlan(job(feature(.sum))), specText: "{}",
        state: StateOptions(backend: .memory, directory: directory.appendingPathComponent("state").path),
        checkpoints: nil, options: RunOptions(), inputs: [.file(inputPath)], outputs: outputs)
}

/// Records of each kind: emitted (t=1000, released by t=2000), late (the watermark is
/// 1999 by then), rejected. The output holds a record when the others are flushed.
private let emittedLateAndRejected = events([(1000, "1"), (2000, "2"), (500, "100")]) + #"{"k":"a","t":3000,"v":"three"}"# + "\n"

@Suite("Run outputs")
struct RunOutputsTests {
    /// The output failing to flush (a full disk, here /dev/full) does not keep the late and
    /// dead-letter files from being flushed and closed. Closing stopped at the first sink
    /// that failed, and the others' records were lost.
    @Test func aFailingOutputStillFlushesTheLateAndDeadLetterFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let late = directory.appendingPathComponent("late.jsonl").path
        let dead = directory.appendingPathComponent("dead.jsonl").path
        let error = try #require(throws: IOError.self) {
            try runWithoutCheckpoints(
                emittedLateAndRejected, in: directory, outputs: OutputPaths(output: "/dev/full", late: late, deadLetter: dead))
        }
        #expect(error.message.contains("/dev/full"))
        #expect(try String(contentsOfFile: late, encoding: .utf8) == #"{"k":"a","t":500,"v":100}"# + "\n")
        let deadLetters = try String(contentsOfFile: dead, encoding: .utf8).split(separator: "\n")
        #expect(deadLetters.count == 1)
        #expect(deadLetters.first?.contains(#""line":4"#) == true)
    }

    /// A run that cannot open one of its outputs (the dead-letter file's directory is
    /// missing) has not truncated the others: it fails before it starts.
    @Test func anOutputThatCannotBeOpenedLeavesTheOthersUntouched() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.jsonl").path
        let late = directory.appendingPathComponent("late.jsonl").path
        try "kept output\n".write(toFile: output, atomically: false, encoding: .utf8)
        try "kept late\n".write(toFile: late, atomically: false, encoding: .utf8)
        let missing = directory.appendingPathComponent("no-such-directory/dead.jsonl").path
        let error = try #require(throws: IOError.self) {
            try runWithoutCheckpoints(
                emittedLateAndRejected, in: directory, outputs: OutputPaths(output: output, late: late, deadLetter: missing))
        }
        #expect(error.message.contains(missing))
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "kept output\n")
        #expect(try String(contentsOfFile: late, encoding: .utf8) == "kept late\n")
    }
}
