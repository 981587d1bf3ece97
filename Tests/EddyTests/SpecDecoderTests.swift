import Foundation
import Testing
@testable import Eddy

private func duration(_ text: String) -> EventDuration { EventDuration.parse(text)! }

@Suite struct SpecDecoderAcceptance {
    @Test func designExampleDecodes() throws {
        // The example from DESIGN section 2, verbatim.
        let json = """
            {
              "code": "card_velocity",
              "keys": ["card_id"],
              "time": "ts",
              "watermark": "5s",
              "dict": [
                {"name": "txn_count",     "type": "aggregating", "operator": "count"},
                {"name": "amount_sum_1h", "type": "reducing",    "operator": "sum",  "field": "amount", "window": "1h"},
                {"name": "amount_max",    "type": "reducing",    "operator": "max",  "field": "amount"},
                {"name": "amount_avg",    "type": "aggregating", "operator": "avg",  "field": "amount"},
                {"name": "last_merchant", "type": "value",       "operator": "last", "field": "merchant"},
                {"name": "merchants_1d",  "type": "map",         "operator": "count_distinct", "field": "merchant", "window": "1d"},
                {"name": "recent_amounts","type": "list",        "operator": "collect", "field": "amount", "limit": 5}
              ]
            }
            """
        let (spec, warnings) = try specDecode(json)
        let expected = JobSpec(
            code: "card_velocity", keys: ["card_id"], time: "ts", timeUnit: .milliseconds,
            watermark: EventDuration(microseconds: 5_000_000, text: "5s"), maxParallelism: 128,
            features: [
                FeatureSpec(name: "txn_count", type: .aggregating, op: .count),
                FeatureSpec(name: "amount_sum_1h", type: .reducing, op: .sum, field: "amount",
                            window: EventDuration(microseconds: 3_600_000_000, text: "1h")),
                FeatureSpec(name: "amount_max", type: .reducing, op: .max, field: "amount"),
                FeatureSpec(name: "amount_avg", type: .aggregating, op: .avg, field: "amount"),
                FeatureSpec(name: "last_merchant", type: .value, op: .last, field: "merchant"),
                FeatureSpec(name: "merchants_1d", type: .map, op: .countDistinct, field: "merchant",
                            window: EventDuration(microseconds: 86_400_000_000, text: "1d")),
                FeatureSpec(name: "recent_amounts", type: .list, op: .collect, field: "amount", limit: 5),
            ],
            emit: .event, carry: .none)
        #expect(spec == expected)
        #expect(warnings.isEmpty)
    }

    @Test func optionalMembersTakeTheirDefaults() throws {
        let (spec, warnings) = try specDecode(specJob())
        #expect(spec == JobSpec(code: "j", keys: ["k"], features: [FeatureSpec(name: "n", type: .reducing, op: .count)]))
        #expect(spec.time == nil)
        #expect(spec.timeUnit == .milliseconds)
        #expect(spec.watermark == EventDuration(microseconds: 0, text: "0s"))
        #expect(spec.maxParallelism == 128)
        #expect(spec.emit == .event)
        #expect(spec.carry == .none)
        #expect(warnings.isEmpty)
    }

    @Test func everyOptionalMemberIsRead() throws {
        let json = specJob(
            #""time": "ts", "timeUnit": "us", "watermark": "1h30m", "maxParallelism": 32768, "emit": "event", "carry": ["amount", "merchant"]"#,
            code: #""Card.velocity-2_b""#, keys: #"["card_id", "region"]"#)
        let (spec, _) = try specDecode(json)
        #expect(spec.code == "Card.velocity-2_b")
        #expect(spec.keys == ["card_id", "region"])
        #expect(spec.time == "ts")
        #expect(spec.timeUnit == .microseconds)
        #expect(spec.watermark == EventDuration(microseconds: 5_400_000_000, text: "1h30m"))
        #expect(spec.maxParallelism == 32768)
        #expect(spec.carry == .columns(["amount", "merchant"]))
    }

    @Test(arguments: [
        ("first", StateType.value), ("last", .value),
        ("count", .reducing), ("sum", .reducing), ("min", .reducing), ("max", .reducing),
        ("avg", .aggregating), ("stddev", .aggregating),
        ("count_distinct", .map), ("histogram", .map),
        ("collect", .list),
    ])
    func typeIsInferredFromTheOperator(op: String, type: StateType) throws {
        let (spec, _) = try specDecode(specFeature(#"{"name": "f", "operator": "\#(op)", "field": "x"}"#))
        #expect(spec.features.map(\.type) == [type])
        #expect(spec.features.map(\.op.rawValue) == [op])
    }

    @Test func operatorTypeCompatibilityFollowsTheDesignTable() {
        let table: [StateType: Set<FeatureOperator>] = [
            .value: [.first, .last],
            .reducing: [.count, .sum, .min, .max],
            .aggregating: [.count, .sum, .min, .max, .avg, .stddev],
            .folding: [.count, .sum, .min, .max, .avg, .stddev],
            .map: [.countDistinct, .histogram],
            .list: [.collect],
            .broadcast: [.lookup],
        ]
        for type in StateType.allCases {
            for op in FeatureOperator.allCases {
                let lookup = op == .lookup ? #", "from": "b", "column": "c""# : ""
                let json = specFeature(#"{"name": "f", "type": "\#(type.rawValue)", "operator": "\#(op.rawValue)", "field": "x"\#(lookup)}"#)
                let accepted = specErrors(json).isEmpty
                #expect(accepted == table[type]!.contains(op), "\(type) / \(op)")
            }
        }
    }

    @Test func countNeedsNoField() throws {
        let (spec, _) = try specDecode(specFeature(#"{"name": "events", "operator": "count"}"#))
        #expect(spec.features == [FeatureSpec(name: "events", type: .reducing, op: .count, field: nil)])
    }

    @Test func carryStarMeansEveryColumnAndEmptyMeansNone() throws {
        #expect(try specDecode(specJob(#""carry": ["*"]"#)).spec.carry == .all)
        #expect(try specDecode(specJob(#""carry": []"#)).spec.carry == .none)
    }

    @Test func foldingIsAcceptedWithADeprecationWarning() throws {
        let json = specJob(dict: #"[{"name": "a", "operator": "count"}, {"name": "b", "type": "folding", "operator": "avg", "field": "x"}]"#)
        let (spec, warnings) = try specDecode(json)
        #expect(spec.features[1].type == .folding)  // kept as written; the state layer maps it
        #expect(warnings == [SpecDiagnostic(.warning, path: "dict[1].type",
            #""folding" is deprecated (as Flink deprecated FoldingState); use "aggregating""#)])
    }

    @Test func loadReadsAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spec-load-\(UUID().uuidString).json").path
        try Data(specJob().utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try JobSpec.load(path: path).spec.code == "j")
    }

    @Test func loadReportsAnUnreadableFileAtTheRoot() {
        let missing = "/nonexistent-\(UUID().uuidString)/job.json"
        #expect(throws: SpecErrors.self) { try JobSpec.load(path: missing) }
        do {
            _ = try JobSpec.load(path: missing)
        } catch {
            #expect(error.diagnostics == [SpecDiagnostic(.error, path: "$", "cannot read \(missing): no such file")])
        }
        let directory = FileManager.default.temporaryDirectory.path
        do {
            _ = try JobSpec.load(path: directory)
        } catch {
            #expect(error.diagnostics == [SpecDiagnostic(.error, path: "$", "cannot read \(directory): it is a directory")])
        }
    }

    @Test func loadReportsSpecErrorsFromTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spec-bad-\(UUID().uuidString).json").path
        try Data(#"{"code": "j"}"#.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try JobSpec.load(path: path)
            Issue.record("accepted a spec without keys and dict")
        } catch {
            #expect(error.diagnostics.count == 2)
        }
    }
}
