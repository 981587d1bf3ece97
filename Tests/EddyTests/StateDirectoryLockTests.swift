import Foundation
import Glibc
import Testing
@testable import Eddy

/// A run on another thread, and what it ended with.
private final class BackgroundRun: @unchecked Sendable {
    private let lock = NSLock()
    private var outcome: Result<RunSummary, any Error>?
    private let finished = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> RunSummary) {
        Thread {
            let result = Result { try body() }
            self.lock.withLock { self.outcome = result }
            self.finished.signal()
        }.start()
    }

    var hasEnded: Bool { lock.withLock { outcome != nil } }

    /// Waits for the run to end.
    func result() -> Result<RunSummary, any Error> {
        finished.wait()
        finished.signal()
        return lock.withLock { outcome! }
    }
}

/// Runs the sum job without checkpoints on the fs backend over `input`.
private func fsRun(stateDirectory: String, input: String, output: String) throws -> RunSummary {
    try runJob(
        plan: JobPlan(job(feature(.sum))), specText: "{}", state: StateOptions(backend: .fs, directory: stateDirectory),
        checkpoints: nil, options: RunOptions(), inputs: [.file(input)], outputs: OutputPaths(output: output))
}

@Suite("State directory lock")
struct StateDirectoryLockTests {
    /// The fs backend locks its state directory for the run, as rocksdb does: two runs
    /// writing snapshots into one directory could publish a mix of both. The first run here
    /// reads a FIFO, so it is mid-run (lock taken, input open) while the second one starts.
    @Test func aSecondFsRunOnTheSameStateDirectoryIsRefusedNamingTheHolder() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let stateDirectory = directory.appendingPathComponent("state").path
        let fifo = directory.appendingPathComponent("first.jsonl").path
        try #require(mkfifo(fifo, 0o600) == 0)
        let firstOutput = directory.appendingPathComponent("first.out").path
        let first = BackgroundRun { try fsRun(stateDirectory: stateDirectory, input: fifo, output: firstOutput) }
        // Opening the FIFO for writing succeeds once the first run has opened it to read.
        var writer: Int32 = -1
        for _ in 0..<10_000 where writer < 0 && !first.hasEnded {
            writer = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            if writer < 0 { usleep(1000) }
        }
        try #require(writer >= 0, "the first run did not open its input: \(first.hasEnded ? "\(first.result())" : "still starting")")

        let secondInput = directory.appendingPathComponent("second.jsonl").path
        try events([(1, "1")]).write(toFile: secondInput, atomically: false, encoding: .utf8)
        let refusal = #expect(throws: IOError.self) {
            try fsRun(stateDirectory: stateDirectory, input: secondInput, output: directory.appendingPathComponent("second.out").path)
        }

        let input = Array(events([(1, "1"), (2, "2")]).utf8)
        #expect(write(writer, input, input.count) == input.count)
        close(writer)
        let summary = try first.result().get()
        #expect(summary.emitted == 2)
        if let refusal {
            #expect(refusal.message.hasPrefix("state directory \(stateDirectory) is in use by eddy pid \(getpid()) on "))
            #expect(refusal.message.hasSuffix("; wait for that run to end, or give this one another --state-dir"))
        }
        // Once the first run has ended, the directory is free.
        _ = try fsRun(stateDirectory: stateDirectory, input: secondInput, output: directory.appendingPathComponent("second.out").path)
    }
}
