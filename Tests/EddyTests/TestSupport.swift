import Foundation
import Testing
@testable import Eddy

/// A fresh temporary directory per test: tests run in parallel.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The outcome of running a job in-process over text input.
struct JobResult {
    var records: [String]
    var summary: RunSummary
    var late: [String]
    var deadLetters: [String]

    /// The records parsed as JSON objects.
    var objects: [[String: Any]] {
        records.map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    /// One output column across all records, as JSON text (`null` when absent).
    func column(_ name: String) -> [String] {
        records.map { record in
            let object = try! JSONSerialization.jsonObject(with: Data(record.utf8)) as! [String: Any]
            guard let value = object[name], !(value is NSNull) else { return "null" }
            let data = try! JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }
    }
}

/// Runs `spec` over `input` (JSON Lines or CSV text) with the memory backend.
func runJob(
    _ spec: JobSpec, input: String, format: InputFormat = .jsonl, output: OutputFormat = .jsonl,
    onBadRecord: BadRecordPolicy = .skip
) throws -> JobResult {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let inputPath = directory.appendingPathComponent("input.\(format.rawValue)").path
    try input.write(toFile: inputPath, atomically: false, encoding: .utf8)
    let paths = ["out", "late", "dead"].map { directory.appendingPathComponent($0).path }
    let sinks = try paths.map { try ByteSink.create(path: $0) }
    let plan = JobPlan(spec)
    let runner = JobRunner(
        plan: plan, backend: MemoryStateBackend(plan: plan),
        options: RunOptions(inputFormat: format, outputFormat: output, onBadRecord: onBadRecord),
        output: sinks[0], lateOutput: sinks[1], deadLetters: sinks[2])
    let summary: RunSummary
    do {
        summary = try runner.run([.file(inputPath)])
    } catch let stop as BadRecordStop {
        for sink in sinks { try sink.close() }
        throw stop
    }
    for sink in sinks { try sink.close() }
    let lines = try paths.map { path in
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }
    return JobResult(records: lines[0], summary: summary, late: lines[1], deadLetters: lines[2])
}

/// A one-feature job keyed by `k` with event time `t` in milliseconds.
func job(
    _ feature: FeatureSpec, time: String? = "t", watermark: Int64 = 0, carry: Carry = .none
) -> JobSpec {
    JobSpec(
        code: "test", keys: ["k"], time: time,
        watermark: EventDuration(microseconds: watermark * 1000, text: "\(watermark)ms"),
        features: [feature], carry: carry)
}

func feature(_ op: FeatureOperator, _ field: String? = "v", window: Int64? = nil, limit: Int? = nil, type: StateType? = nil) -> FeatureSpec {
    let inferred: StateType = switch op {
    case .first, .last: .value
    case .count, .sum, .min, .max: .reducing
    case .avg, .stddev: .aggregating
    case .countDistinct, .histogram: .map
    case .collect: .list
    }
    return FeatureSpec(
        name: "f", type: type ?? inferred, op: op, field: field,
        window: window.map { EventDuration(microseconds: $0 * 1000, text: "\($0)ms") }, limit: limit)
}

/// JSON Lines for events of key "a": (time ms, value JSON text or nil for a missing field).
func events(_ items: [(Int, String?)], key: String = "a") -> String {
    items.map { time, value in
        value.map { "{\"k\":\"\(key)\",\"t\":\(time),\"v\":\($0)}" } ?? "{\"k\":\"\(key)\",\"t\":\(time)}"
    }.joined(separator: "\n") + "\n"
}

extension JobResult {
    /// The raw JSON text of the last output column (the feature in one-feature jobs), exactly as
    /// written: `5` and `5.0` differ here.
    var lastColumnTexts: [String] {
        records.map { record in
            let start = record.range(of: "\"f\":", options: .backwards)!.upperBound
            return String(record[start..<record.index(before: record.endIndex)])
        }
    }
}
