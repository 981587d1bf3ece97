import Foundation
import Testing
@testable import Eddy

/// Runs `spec` over `input` with one backend per worker, as `runJob` does for `--parallelism`.
private func run<Backend: KeyedStateBackend>(_ spec: JobSpec, _ input: String, on backends: [Backend]) throws -> [Backend] {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let inputPath = directory.appendingPathComponent("input.jsonl").path
    try input.write(toFile: inputPath, atomically: false, encoding: .utf8)
    let sink = try ByteSink.create(path: directory.appendingPathComponent("out").path)
    _ = try JobRunner(
        plan: JobPlan(spec), backends: backends, options: RunOptions(parallelism: backends.count), output: sink,
        checkpoints: nil, resume: nil
    ).run([.file(inputPath)])
    try sink.close()
    return backends
}

/// Every resident key's row over several workers' states, checking no key is in two.
private func rows(_ workers: [KeyedStates]) -> [String: [UInt8]] {
    var all: [String: [UInt8]] = [:]
    for states in workers {
        for (key, row) in rows(states) {
            #expect(all[key] == nil, "key \(key) is held by two workers")
            all[key] = row
        }
    }
    return all
}

@Suite("Parallel workers and rescaling")
struct ParallelTests {
    @Test func workersOwnFlinksKeyGroupRanges() {
        #expect(keyGroupRanges(JobPlan(everyFeatureJob), 1) == [0...127])
        #expect(keyGroupRanges(JobPlan(everyFeatureJob), 3) == [0...42, 43...85, 86...127])
        var spec = everyFeatureJob
        spec.maxParallelism = 10
        #expect(keyGroupRanges(JobPlan(spec), 4) == [0...2, 3...4, 5...7, 8...9])
    }

    @Test func eachWorkerHoldsOnlyKeysOfItsKeyGroups() throws {
        let plan = JobPlan(everyFeatureJob)
        let workers = try run(everyFeatureJob, events(count: 4000, keys: 300), on: (0..<3).map { _ in MemoryStateBackend(plan: plan) })
        let ranges = keyGroupRanges(plan, 3)
        for (index, worker) in workers.enumerated() {
            #expect(worker.keyCount > 50)
            for key in rows(worker.states).keys {
                #expect(ranges[index].contains(KeyGroups.keyGroup(ofKey: key, maxParallelism: 128)), "\(key) in worker \(index)")
            }
        }
        let single = try run(everyFeatureJob, events(count: 4000, keys: 300), on: MemoryStateBackend(plan: plan))
        #expect(rows(workers.map(\.states)) == rows(single.states))
    }

    @Test(arguments: [(4, 2), (2, 3), (3, 1), (1, 4)])
    func fsSnapshotOfPWorkersRestoresOntoQ(written: Int, restored: Int) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plan = JobPlan(everyFeatureJob)
        let snapshot = directory.appendingPathComponent("snapshot").path
        let writers = try run(
            everyFeatureJob, events(count: 3000, keys: 200),
            on: (0..<written).map { _ in FileSystemStateBackend(plan: plan, directory: snapshot) })
        let buffered = (0..<128).map { BufferedEvent(keyGroup: $0, time: Int64($0), sequence: 1, bytes: [UInt8($0)]) }
        try FileSystemStateBackend.persist(writers, buffered: buffered)
        let readers = try keyGroupRanges(plan, restored).map {
            try FileSystemStateBackend(plan: plan, directory: snapshot + "2", restoringFrom: snapshot, keyGroups: $0)
        }
        #expect(rows(readers.map(\.states)) == rows(writers.map(\.states)))
        for (reader, range) in zip(readers, keyGroupRanges(plan, restored)) {
            #expect(reader.restoredEvents.map(\.keyGroup) == Array(range))
        }
    }

    @Test(arguments: [(4, 2), (1, 3)])
    func rocksdbStateOfPWorkersRestoresOntoQ(written: Int, restored: Int) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plan = JobPlan(everyFeatureJob)
        let root = directory.appendingPathComponent("checkpoints").path
        let store = try CheckpointStore(root: root)
        let database = try RocksStateStore(directory: directory.appendingPathComponent("db/rocksdb").path)
        // A small budget: most keys are evicted to RocksDB while the run goes on.
        let writers = try run(
            everyFeatureJob, events(count: 3000, keys: 200),
            on: keyGroupRanges(plan, written).map {
                try RocksStateBackend(plan: plan, store: database, keyGroups: $0, memoryBudget: 8 << 10)
            })
        let expected = rows(try run(everyFeatureJob, events(count: 3000, keys: 200), on: MemoryStateBackend(plan: plan)).states)
        let staging = try store.stage()
        let buffered = [BufferedEvent(keyGroup: 5, time: 1, sequence: 1, bytes: [1]), BufferedEvent(keyGroup: 120, time: 2, sequence: 2, bytes: [])]
        try RocksStateBackend.checkpoint(writers, buffered: buffered, into: staging)
        let metadata = try store.publish(staging, metadata: CheckpointMetadata(
            id: 0, createdAt: "2026-12-01T00:00:00Z", spec: "{}", code: "test", backend: "rocksdb",
            stateFormatVersion: Int(StateFormat.version), maxParallelism: 128, parallelism: written,
            counters: [:], sources: [], outputs: []))
        #expect(metadata.parallelism == written)
        let restoredStore = try RocksStateStore(directory: directory.appendingPathComponent("db2/rocksdb").path, restoring: metadata, from: root)
        let readers = try keyGroupRanges(plan, restored).map {
            try RocksStateBackend(plan: plan, store: restoredStore, keyGroups: $0, memoryBudget: 1 << 30)
        }
        #expect(readers.reduce(0) { $0 + $1.keyCount } == 200)
        #expect(readers.flatMap(\.restoredEvents) == buffered)
        // Every key is found, with its row, by the worker that owns it after rescaling.
        for (key, expectedRow) in expected {
            let keyGroup = KeyGroups.keyGroup(ofKey: key, maxParallelism: 128)
            let owner = KeyGroups.operatorIndex(forKeyGroup: keyGroup, maxParallelism: 128, parallelism: restored)
            let slot = try readers[owner].slot(forKey: key, hash: KeyGroups.stableHash(ofKey: key))
            #expect(row(readers[owner].states, slot: slot) == expectedRow, "row of \(key)")
        }
    }

    @Test func aWorkersFailureReachesTheCaller() throws {
        // A row another job wrote is refused when a worker reads it back: the failure comes
        // from a pool thread and must reach the caller, not end the process.
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try RocksStateStore(directory: directory.appendingPathComponent("db/rocksdb").path)
        let other = JobPlan(job(feature(.collect)))
        let plan = JobPlan(job(feature(.sum)))
        let writer = try RocksStateBackend(plan: other, store: database, keyGroups: 0...127, memoryBudget: 1 << 30)
        for key in (0..<50).map({ "\"k\($0)\"" }) {
            let slot = try writer.slot(forKey: key, hash: KeyGroups.stableHash(ofKey: key))
            writer.states.stores[0].apply(FieldValue(kind: .number, text: "1", number: 1, integer: 1), slot: slot, at: 0)
        }
        try RocksStateBackend.persist([writer], buffered: [])
        let workers = try keyGroupRanges(plan, 2).map {
            try RocksStateBackend(plan: plan, store: database, keyGroups: $0, memoryBudget: 1 << 30)
        }
        let input = (0..<50).map { #"{"k":"k\#($0)","t":\#($0),"v":1}"# }.joined(separator: "\n") + "\n"
        #expect(throws: StateFormatError.self) { _ = try run(job(feature(.sum)), input, on: workers) }
    }
}
