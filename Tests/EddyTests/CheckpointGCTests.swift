import Foundation
import Glibc
import Testing
@testable import Eddy

/// A checkpoint directory with one checkpoint per entry of `shared`: each has a private
/// file of 100 bytes and lists the named shared files (each 1000 bytes, written once).
/// Published with a retention that keeps them all; the store's lock is released on return.
private func checkpoints(sharing shared: [[String]], in root: String, scratch: String) throws {
    let store = try CheckpointStore(root: root, retain: 100)
    for names in shared {
        let staging = try store.stage()
        try Data(repeating: 1, count: 100).write(to: URL(fileURLWithPath: staging.directory + "/state"))
        try staging.addPrivateFile("state")
        var files: [(path: String, databaseName: String, sharedName: String)] = []
        for name in names {
            let path = scratch + "/" + name
            try Data(repeating: 2, count: 1000).write(to: URL(fileURLWithPath: path))
            files.append((path, name, name))
        }
        try staging.addSharedFiles(files)
        _ = try store.publish(staging, metadata: CheckpointMetadata(
            id: 0, createdAt: "2026-12-01T00:00:00Z", spec: "{}", code: "gc", backend: "fs", stateFormatVersion: 1,
            maxParallelism: 128, counters: [:], sources: [], outputs: []))
    }
}

private func names(in directory: String) throws -> Set<String> {
    Set(try FileManager.default.contentsOfDirectory(atPath: directory))
}

@Suite("Checkpoint garbage collection")
struct CheckpointGCTests {
    @Test func keepsTheNewestAndTheSharedFilesTheyListAndCountsTheBytes() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let root = directory.appendingPathComponent("ck").path
        try checkpoints(sharing: [["a.sst"], ["a.sst", "b.sst"], ["b.sst"], ["c.sst"], ["c.sst", "d.sst"]], in: root, scratch: directory.path)

        let preview = try CheckpointStore.collectGarbage(in: root, retain: 2, dryRun: true)
        #expect(preview.removed.map(\.path) == ["chk-000001", "chk-000002", "chk-000003", "shared/a.sst", "shared/b.sst"])
        #expect(preview.kept == [4, 5])
        #expect(try names(in: root).isSuperset(of: ["chk-000001", "chk-000002", "chk-000003"]), "a dry run removes nothing")
        #expect(try names(in: root + "/shared") == ["a.sst", "b.sst", "c.sst", "d.sst"])

        let done = try CheckpointStore.collectGarbage(in: root, retain: 2, dryRun: false)
        #expect(done.removed == preview.removed)
        #expect(try names(in: root) == ["LOCK", "shared", "chk-000004", "chk-000005"])
        #expect(try names(in: root + "/shared") == ["c.sst", "d.sst"])
        // Each checkpoint directory: 100 bytes of state and its _metadata; shared: 1000 each.
        for item in done.removed where item.path.hasPrefix("shared/") { #expect(item.bytes == 1000 && item.freedBytes == 1000) }
        for item in done.removed where item.path.hasPrefix("chk-") { #expect(item.bytes > 100 && item.freedBytes == item.bytes) }
        for id in [4, 5] { #expect(CheckpointStore.problems(id: id, in: root).isEmpty) }
        // Nothing left to do, and the default keeps the run's default of 3.
        #expect(try CheckpointStore.collectGarbage(in: root, retain: 2, dryRun: false).removed.isEmpty)
        #expect(CheckpointStore.defaultRetain == 3)
    }

    @Test func neverRemovesTheNewestCheckpointThatVerifies() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let root = directory.appendingPathComponent("ck").path
        try checkpoints(sharing: [["a.sst"], ["b.sst"], ["c.sst"], ["d.sst"]], in: root, scratch: directory.path)
        // The newest two are damaged: a resume would fall back to chk-000002.
        for id in [3, 4] { try Data([0]).write(to: URL(fileURLWithPath: root + "/" + CheckpointStore.name(of: id) + "/state")) }
        let done = try CheckpointStore.collectGarbage(in: root, retain: 2, dryRun: false)
        #expect(done.kept == [2, 3, 4])
        #expect(done.removed.map(\.path) == ["chk-000001", "shared/a.sst"])
        #expect(CheckpointStore.problems(id: 2, in: root).isEmpty)
        #expect(CheckpointStore.newestUsable(root: root).found?.metadata.id == 2)
    }

    @Test func removesLeftoversOfInterruptedWrites() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let root = directory.appendingPathComponent("ck").path
        try checkpoints(sharing: [["a.sst"]], in: root, scratch: directory.path)
        try FileManager.default.createDirectory(atPath: root + "/chk-000002.tmp", withIntermediateDirectories: true)
        try Data(repeating: 3, count: 10).write(to: URL(fileURLWithPath: root + "/chk-000002.tmp/state"))
        try Data(repeating: 3, count: 20).write(to: URL(fileURLWithPath: root + "/shared/b.sst.partial"))
        try Data(repeating: 3, count: 30).write(to: URL(fileURLWithPath: root + "/chk-000001/stdout.release.tmp"))
        let done = try CheckpointStore.collectGarbage(in: root, retain: 3, dryRun: false)
        #expect(done.removed.map(\.path) == ["chk-000002.tmp", "shared/b.sst.partial", "chk-000001/stdout.release.tmp"])
        #expect(done.removed.map(\.freedBytes) == [10, 20, 30])
        #expect(done.kept == [1])
        #expect(CheckpointStore.problems(id: 1, in: root).isEmpty)
        #expect(try names(in: root + "/shared") == ["a.sst"])
    }

    /// Checkpoints share files by hard links: bytes are freed only when the last link goes.
    @Test func countsBytesFreedOnlyWhenTheLastLinkGoes() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let root = directory.appendingPathComponent("ck").path
        try checkpoints(sharing: [[], [], []], in: root, scratch: directory.path)
        // chk-1's extra file is also linked from outside; chk-1's and chk-2's "options" are one inode.
        try Data(repeating: 4, count: 500).write(to: URL(fileURLWithPath: root + "/chk-000001/outside"))
        #expect(link(root + "/chk-000001/outside", directory.path + "/live-link") == 0)
        try Data(repeating: 4, count: 700).write(to: URL(fileURLWithPath: root + "/chk-000001/options"))
        #expect(link(root + "/chk-000001/options", root + "/chk-000002/options") == 0)
        let done = try CheckpointStore.collectGarbage(in: root, retain: 1, dryRun: true)
        #expect(done.removed.map(\.path) == ["chk-000001", "chk-000002"])
        let first = done.removed[0]
        let second = done.removed[1]
        // The file linked from outside stays; options goes with its last link, chk-000002's.
        #expect(first.bytes - first.freedBytes == 500 + 700)
        #expect(second.bytes == second.freedBytes)
        // Listed twice (once per checkpoint), freed once.
        #expect(first.freedBytes + second.freedBytes == first.bytes + second.bytes - 500 - 700)
    }

    @Test func refusesWhileARunHoldsTheDirectoryAndAMissingDirectory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let root = directory.appendingPathComponent("ck").path
        try checkpoints(sharing: [[], [], [], []], in: root, scratch: directory.path)
        let run = try CheckpointStore(root: root, retain: 100)
        let error = try #require(throws: IOError.self) { try CheckpointStore.collectGarbage(in: root, retain: 1, dryRun: false) }
        #expect(error.message.contains("checkpoint directory \(root) is in use by eddy pid \(getpid())"))
        #expect(try names(in: root).isSuperset(of: ["chk-000001", "chk-000002", "chk-000003", "chk-000004"]))
        _ = run
        let missing = try #require(throws: IOError.self) {
            try CheckpointStore.collectGarbage(in: directory.appendingPathComponent("none").path, dryRun: false)
        }
        #expect(missing.message.contains("no such checkpoint directory"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("none").path), "gc creates nothing")
    }
}
