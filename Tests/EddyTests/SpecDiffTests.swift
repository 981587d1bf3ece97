import Foundation
import Testing
@testable import Eddy

/// The job the comparisons start from: every member a resume compares is set.
private let baseSpec = specJob(
    #""time": "ts", "timeUnit": "ms", "watermark": "5s", "carry": ["m"], "ttl": "1d""#,
    keys: #"["card"]"#,
    dict: #"""
        [{"name": "n", "operator": "count"},
         {"name": "total_1h", "type": "reducing", "operator": "sum", "field": "amount", "window": "1h"},
         {"name": "recent", "operator": "collect", "field": "amount", "limit": 3}]
        """#)

private func decoded(_ json: String) throws -> JobSpec { try specDecode(json).spec }

/// `baseSpec` with one member replaced (`"keys": ...` style text) or a feature list.
private func changed(_ old: String, _ new: String) throws -> JobSpec {
    let text = baseSpec.replacingOccurrences(of: old, with: new)
    #expect(text != baseSpec, "the replacement must apply: \(old)")
    return try decoded(text)
}

/// The comparison `run --resume` made before it named the differences, kept here as the
/// oracle: the diff must refuse exactly what it refused.
private func oldResumeCheckAccepts(saved: JobSpec, current: JobSpec) -> Bool {
    saved.code == current.code && saved.keys == current.keys && saved.time == current.time
        && saved.timeUnit == current.timeUnit && saved.features == current.features && saved.carry == current.carry
        && saved.emit.signature == current.emit.signature
}

@Suite("Spec differences against a checkpoint")
struct SpecDiffTests {
    @Test func theSameSpecHasNoDifferences() throws {
        let spec = try decoded(baseSpec)
        #expect(SpecDiff(saved: spec, current: spec).differences.isEmpty)
    }

    @Test func eachMemberTheResumeComparesIsNamedAndBlocks() throws {
        let saved = try decoded(baseSpec)
        let cases: [(old: String, new: String, expected: String)] = [
            (#""code": "j""#, #""code": "j2""#, "code: j -> j2"),
            (#""keys": ["card"]"#, #""keys": ["card", "bank"]"#, "keys: card -> card, bank"),
            (#""time": "ts""#, #""time": "at""#, "time: ts -> at"),
            (#""timeUnit": "ms""#, #""timeUnit": "s""#, "timeUnit: ms -> s"),
            (#""carry": ["m"]"#, #""carry": ["*"]"#, "carry: m -> every column (*)"),
            (#""window": "1h""#, #""window": "2h""#, #"feature "total_1h" window: 1h -> 2h"#),
            (#""window": "1h""#, #""window": "60m""#, #"feature "total_1h" window: 1h -> 60m"#),
            (#""operator": "sum""#, #""operator": "max""#, #"feature "total_1h" operator: sum -> max"#),
            (#""type": "reducing", "operator": "sum""#, #""type": "aggregating", "operator": "sum""#,
             #"feature "total_1h" type: reducing -> aggregating"#),
            (#""field": "amount", "window""#, #""field": "price", "window""#, #"feature "total_1h" field: amount -> price"#),
            (#""limit": 3"#, #""limit": 4"#, #"feature "recent" limit: 3 -> 4"#),
        ]
        for (old, new, expected) in cases {
            let current = try changed(old, new)
            let diff = SpecDiff(saved: saved, current: current)
            #expect(diff.blocking.map(\.description) == [expected], "\(old) -> \(new)")
            #expect(!oldResumeCheckAccepts(saved: saved, current: current), "the old check refused \(new) too")
        }
    }

    @Test func aRemovedFeatureBlocksWithoutAllowDropWhileAddedAndReorderedOnesEvolve() throws {
        let saved = try decoded(baseSpec)
        let removedAndAdded = try changed(
            #"{"name": "n", "operator": "count"}"#, #"{"name": "events", "operator": "count"}"#)
        #expect(SpecDiff(saved: saved, current: removedAndAdded).blocking.map(\.description) == [
            #"feature "n": count(*) over all events -> removed (a resume drops its state only with --allow-drop)"#,
        ])
        let allowingDrop = SpecDiff(saved: saved, current: removedAndAdded, allowDrop: true)
        #expect(allowingDrop.blocking.isEmpty)
        #expect(allowingDrop.differences.map(\.description) == [
            #"feature "n": count(*) over all events -> dropped (--allow-drop)"#,
            #"feature "events": absent -> added: count(*) over all events (starts empty)"#,
        ])
        let reordered = try decoded(specJob(
            #""time": "ts", "timeUnit": "ms", "watermark": "5s", "carry": ["m"], "ttl": "1d""#, keys: #"["card"]"#,
            dict: #"""
                [{"name": "total_1h", "type": "reducing", "operator": "sum", "field": "amount", "window": "1h"},
                 {"name": "n", "operator": "count"},
                 {"name": "recent", "operator": "collect", "field": "amount", "limit": 3}]
                """#))
        #expect(SpecDiff(saved: saved, current: reordered).blocking.isEmpty)
        #expect(SpecDiff(saved: saved, current: reordered).differences.map(\.description) == [
            "feature order: n, total_1h, recent -> total_1h, n, recent"
        ])
    }

    @Test func emitModesCompareByLengthNotSpelling() throws {
        func windowed(_ emit: String) throws -> JobSpec {
            try decoded(specJob(#""time": "ts", "emit": \#(emit)"#, keys: #"["card"]"#))
        }
        let saved = try windowed(#"{"tumbling": "1h"}"#)
        #expect(SpecDiff(saved: saved, current: try windowed(#"{"tumbling": "60m"}"#)).differences.isEmpty)
        let hopping = try windowed(#"{"hopping": {"size": "1h", "slide": "30m"}}"#)
        #expect(SpecDiff(saved: saved, current: hopping).blocking.map(\.description) == ["emit: tumbling 1h -> hopping size 1h, slide 30m"])
        #expect(!oldResumeCheckAccepts(saved: saved, current: hopping))
    }

    @Test func watermarkAndTTLAreReportedButDoNotBlock() throws {
        let saved = try decoded(baseSpec)
        let current = try changed(#""watermark": "5s", "carry": ["m"], "ttl": "1d""#, #""watermark": "10s", "carry": ["m"]"#)
        let diff = SpecDiff(saved: saved, current: current)
        #expect(diff.differences.map(\.description) == ["watermark: 5s -> 10s", "ttl: 1d -> none"])
        #expect(diff.blocking.isEmpty)
        #expect(oldResumeCheckAccepts(saved: saved, current: current), "the old check accepted these too")
    }

    @Test func backendKeyGroupsAndAnUnreadableStoredSpecBlock() throws {
        let spec = try decoded(baseSpec)
        var metadata = CheckpointMetadata(
            id: 7, createdAt: "2026-12-01T00:00:00Z", spec: baseSpec, code: "j", backend: "rocksdb",
            stateFormatVersion: 1, maxParallelism: 128, counters: [:], sources: [], outputs: [])
        #expect(CheckpointCompatibility(checkpoint: metadata, current: spec, backend: .rocksdb).resumable)
        let otherBackend = CheckpointCompatibility(checkpoint: metadata, current: spec, backend: .fs)
        #expect(!otherBackend.resumable)
        #expect(otherBackend.differences.map(\.description) == ["backend: rocksdb -> fs"])
        var fewerGroups = spec
        fewerGroups.maxParallelism = 64
        #expect(CheckpointCompatibility(checkpoint: metadata, current: fewerGroups, backend: .rocksdb).differences.map(\.description)
            == ["maxParallelism: 128 -> 64"])
        metadata.spec = "{not json"
        let unreadable = CheckpointCompatibility(checkpoint: metadata, current: spec, backend: .rocksdb)
        #expect(unreadable.spec == nil)
        #expect(!unreadable.resumable)
    }

    /// The resume's refusal names the differences the diff finds, and still refuses.
    @Test func aResumeWithAChangedSpecIsRefusedNamingWhatDiffers() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.jsonl").path
        try #"{"card":"a","amount":1,"ts":1000,"m":"x"}"#.appending("\n").write(toFile: input, atomically: true, encoding: .utf8)
        func run(_ text: String, resume: ResumeTarget?) throws {
            let state = StateOptions(backend: .fs, directory: directory.appendingPathComponent("state").path)
            let checkpoints = CheckpointOptions(directory: directory.appendingPathComponent("ck").path, resume: resume)
            _ = try runJob(
                plan: JobPlan(try decoded(text)), specText: text, state: state, checkpoints: checkpoints, options: RunOptions(),
                inputs: [.file(input)], outputs: OutputPaths(output: directory.appendingPathComponent("out.jsonl").path))
        }
        try run(baseSpec, resume: nil)
        let widened = baseSpec.replacingOccurrences(of: #""window": "1h""#, with: #""window": "2h""#)
        do {
            try run(widened, resume: .latest)
            Issue.record("a resume with another window must be refused")
        } catch let error as CheckpointError {
            #expect(error.message.contains(#"with a different spec (feature "total_1h" window: 1h -> 2h)"#), "\(error.message)")
        }
        // A change the resume accepts is accepted.
        try run(baseSpec.replacingOccurrences(of: #""watermark": "5s""#, with: #""watermark": "9s""#), resume: .latest)
    }
}
