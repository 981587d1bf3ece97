import Foundation
import Testing
@testable import Eddy

/// Takes a checkpoint of `backend` with `buffered` into `store`.
private func checkpoint(
    _ backend: some CheckpointingStateBackend, kind: String, buffered: [BufferedEvent] = [], into store: CheckpointStore
) throws -> (metadata: CheckpointMetadata, newBytes: Int64) {
    let staging = try store.stage()
    try backend.checkpoint(buffered: buffered, into: staging)
    let metadata = CheckpointMetadata(
        id: 0, createdAt: "2026-11-25T00:00:00Z", spec: "{}", code: "test", backend: kind,
        stateFormatVersion: Int(StateFormat.version), maxParallelism: backend.states.maxParallelism,
        counters: ["read": 1], sources: [], outputs: [])
    return (try store.publish(staging, metadata: metadata), staging.newBytes)
}

private let sampleEvents = [
    BufferedEvent(keyGroup: 3, time: 10, sequence: 2, bytes: [1, 2, 3]),
    BufferedEvent(keyGroup: 3, time: 11, sequence: 1, bytes: []),
    BufferedEvent(keyGroup: 90, time: -5, sequence: 7, bytes: [9]),
]

@Suite("Checkpoints")
struct CheckpointTests {
    @Test func fsAndRocksdbCheckpointsRestoreEveryKeyAndBufferedEvent() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plan = JobPlan(everyFeatureJob)
        let input = events(count: 3000, keys: 150)
        let memory = try run(everyFeatureJob, input, on: MemoryStateBackend(plan: plan))

        let fsStore = try CheckpointStore(root: directory.appendingPathComponent("fs-checkpoints").path)
        let fs = try run(everyFeatureJob, input, on: FileSystemStateBackend(plan: plan, directory: directory.appendingPathComponent("fs").path))
        let fsCheckpoint = try checkpoint(fs, kind: "fs", buffered: sampleEvents, into: fsStore).metadata
        let fsRestored = try FileSystemStateBackend(
            plan: plan, directory: directory.appendingPathComponent("fs2").path,
            restoringCheckpoint: fsStore.root + "/" + CheckpointStore.name(of: fsCheckpoint.id))
        #expect(rows(fsRestored.states) == rows(memory.states))
        #expect(fsRestored.restoredEvents == sampleEvents.sorted(by: BufferedEvent.precedes))

        let rocksStore = try CheckpointStore(root: directory.appendingPathComponent("rocks-checkpoints").path)
        let rocks = try run(
            everyFeatureJob, input,
            on: RocksStateBackend(plan: plan, directory: directory.appendingPathComponent("db/rocksdb").path, memoryBudget: 32 << 10))
        let rocksCheckpoint = try checkpoint(rocks, kind: "rocksdb", buffered: sampleEvents, into: rocksStore).metadata
        #expect(!rocksCheckpoint.sharedLinks.isEmpty)
        let rocksRestored = try RocksStateBackend(
            plan: plan, directory: directory.appendingPathComponent("db2/rocksdb").path, memoryBudget: 1 << 30,
            restoring: rocksCheckpoint, from: rocksStore.root)
        #expect(rocksRestored.keyCount == 150)
        #expect(rocksRestored.restoredEvents == sampleEvents.sorted(by: BufferedEvent.precedes))
        // Every key is read back from RocksDB on first use, equal to the memory backend's.
        for (key, expected) in rows(memory.states) {
            let slot = try rocksRestored.slot(forKey: key, hash: KeyGroups.stableHash(ofKey: key))
            #expect(row(rocksRestored.states, slot: slot) == expected, "row of \(key)")
        }
    }

    @Test func rocksdbCheckpointsAreIncrementalAndOldSharedFilesAreDropped() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = job(feature(.sum))
        let plan = JobPlan(spec)
        let store = try CheckpointStore(root: directory.appendingPathComponent("checkpoints").path, retain: 2)
        let backend = try RocksStateBackend(plan: plan, directory: directory.appendingPathComponent("db/rocksdb").path, memoryBudget: 1 << 30)
        func touch(_ keys: Range<Int>) throws {
            for index in keys {
                let key = "\"key\(index)\""
                let slot = try backend.slot(forKey: key, hash: KeyGroups.stableHash(ofKey: key))
                backend.states.stores[0].apply(FieldValue(kind: .number, text: "1", number: 1, integer: 1), slot: slot, at: 0)
            }
            try backend.endOfBatch()
        }
        try touch(0..<20000)
        let first = try checkpoint(backend, kind: "rocksdb", into: store)
        try touch(0..<200)
        let second = try checkpoint(backend, kind: "rocksdb", into: store)
        #expect(second.newBytes * 10 < first.newBytes, "second checkpoint wrote \(second.newBytes) bytes, first \(first.newBytes)")
        #expect(Set(first.metadata.sharedLinks.map(\.sharedName)).isSubset(of: second.metadata.sharedLinks.map(\.sharedName)))
        try touch(0..<200)
        _ = try checkpoint(backend, kind: "rocksdb", into: store)
        try touch(0..<200)
        let fourth = try checkpoint(backend, kind: "rocksdb", into: store)
        #expect(try store.checkpointIDs() == [3, 4])
        let kept = Set(try (3...4).flatMap { try store.load(id: $0).sharedLinks.map(\.sharedName) })
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: store.root + "/shared")) == kept)
        #expect(CheckpointStore.problems(id: fourth.metadata.id, in: store.root).isEmpty)
    }

    @Test func aSecondRunOnTheSameDirectoryIsRefusedWithTheHolder() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let root = directory.appendingPathComponent("checkpoints").path
        let holder = try CheckpointStore(root: root)
        do {
            _ = try CheckpointStore(root: root)
            Issue.record("the lock was taken twice")
        } catch {
            #expect(error.message.contains("is in use by eddy pid \(getpid())"))
        }
        _ = holder
    }

    @Test func aCorruptNewestCheckpointFallsBackToThePreviousOne() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plan = JobPlan(everyFeatureJob)
        let store = try CheckpointStore(root: directory.appendingPathComponent("checkpoints").path)
        let backend = try run(everyFeatureJob, events(count: 500, keys: 20), on: FileSystemStateBackend(plan: plan, directory: directory.appendingPathComponent("fs").path))
        _ = try checkpoint(backend, kind: "fs", into: store)
        let newest = try checkpoint(backend, kind: "fs", into: store).metadata
        let victim = store.root + "/" + newest.files[0].path
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: victim)))
        bytes[bytes.count / 2] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: victim))
        let usable = store.newestUsable()
        #expect(usable.found?.metadata.id == newest.id - 1)
        #expect(usable.skipped.count == 1 && usable.skipped[0].contains("checksum mismatch"))
    }

    @Test func aMissingLocalCopyIsRestoredFromTheMirror() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plan = JobPlan(everyFeatureJob)
        let mirror = directory.appendingPathComponent("mirror").path
        let root = directory.appendingPathComponent("checkpoints").path
        let rocks = try run(
            everyFeatureJob, events(count: 500, keys: 20),
            on: RocksStateBackend(plan: plan, directory: directory.appendingPathComponent("db/rocksdb").path, memoryBudget: 1 << 30))
        var metadata: CheckpointMetadata
        do {
            let store = try CheckpointStore(root: root, mirror: mirror)
            metadata = try checkpoint(rocks, kind: "rocksdb", buffered: sampleEvents, into: store).metadata
        }
        // The local disk loses the checkpoint's shared files.
        try FileManager.default.removeItem(atPath: root + "/shared")
        try FileManager.default.createDirectory(atPath: root + "/shared", withIntermediateDirectories: true)
        let store = try CheckpointStore(root: root, mirror: mirror)
        let usable = try #require(store.newestUsable().found)
        #expect(usable.root == mirror && usable.metadata == metadata)
        let restored = try RocksStateBackend(
            plan: plan, directory: directory.appendingPathComponent("db2/rocksdb").path, memoryBudget: 1 << 30,
            restoring: usable.metadata, from: usable.root)
        #expect(restored.keyCount == 20)
        #expect(restored.restoredEvents == sampleEvents.sorted(by: BufferedEvent.precedes))
    }
}
