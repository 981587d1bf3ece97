import Foundation
import Testing
@testable import Eddy

/// The node names a DOT text declares (`name [...]`) and the edges it draws (`a -> b`).
private func graph(_ dot: String) -> (nodes: [String: String], edges: [(from: String, to: String, attributes: String)]) {
    var nodes: [String: String] = [:]
    var edges: [(String, String, String)] = []
    for line in dot.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
        // An edge starts with a node name and an arrow (labels may hold arrows too).
        let name = line.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        if !name.isEmpty, line.dropFirst(name.count).hasPrefix(" -> "), let arrow = line.range(of: " -> ") {
            let from = String(line[..<arrow.lowerBound])
            let rest = line[arrow.upperBound...].dropLast() // the ";"
            let to = String(rest.prefix { $0 != " " })
            edges.append((from, to, String(rest.dropFirst(to.count))))
        } else if !line.hasPrefix("node "), let bracket = line.range(of: " [label=") ?? line.range(of: " [shape=") {
            // (`node [...]` sets every node's defaults; it is no node.)
            nodes[String(line[..<bracket.lowerBound])] = String(line[bracket.lowerBound...])
        }
    }
    return (nodes, edges)
}

@Suite("eddy plan --dot")
struct PlanDotTests {
    @Test func everyStageAndFeatureIsANodeAndEveryEdgeJoinsDeclaredNodes() throws {
        let spec = try specDecode(specJob(
            #""time": "ts", "ttl": "1d""#,
            dict: #"""
                [{"name": "n", "operator": "count"},
                 {"name": "tier", "operator": "lookup", "field": "m", "from": "merchants", "column": "tier"},
                 {"name": "total", "operator": "sum", "field": "amount", "window": "1h"}]
                """#)).spec
        let plan = JobPlan(spec)
        let dot = plan.describeAsDot()
        #expect(dot.hasPrefix("digraph \"j\" {\n") && dot.hasSuffix("\n}"))
        let (nodes, edges) = graph(dot)
        #expect(Set(nodes.keys) == ["source", "parse", "key_by", "feature_0", "feature_1", "feature_2", "broadcast_0", "sink"])
        for edge in edges {
            #expect(nodes[edge.from] != nil && nodes[edge.to] != nil, "\(edge.from) -> \(edge.to) joins declared nodes")
        }
        #expect(edges.map { "\($0.from)->\($0.to)" } == [
            "source->parse", "parse->key_by", "key_by->feature_0", "broadcast_0->feature_1", "feature_2->sink",
        ])
        #expect(edges[3].attributes.contains("dashed"))
        // The texts are `eddy plan`'s: each feature's formula, the keyed stage's TTL line.
        for (index, feature) in spec.features.enumerated() {
            #expect(nodes["feature_\(index)"]!.contains(feature.name + "\\n" + feature.formula))
        }
        let text = plan.describe()
        #expect(text.contains("state TTL 1d") && dot.contains("\\nstate TTL 1d"))
        #expect(!dot.contains("window ["), "an event-mode job has no window stage")
    }

    @Test func aWindowedJobHasAWindowStageBetweenKeyByAndTheFeatures() throws {
        let spec = try specDecode(specJob(#""time": "ts", "emit": {"hopping": {"size": "1h", "slide": "10m"}}"#)).spec
        let (nodes, edges) = graph(JobPlan(spec).describeAsDot())
        #expect(nodes["window"]?.contains("hopping windows of 1h every 10m") == true)
        #expect(edges.map { "\($0.from)->\($0.to)" } == ["source->parse", "parse->key_by", "key_by->window", "window->feature_0", "feature_0->sink"])
    }

    @Test func quotesAndBackslashesInNamesAreEscaped() throws {
        let spec = try specDecode(specJob(keys: #"["k\"ey\\x"]"#)).spec
        let dot = JobPlan(spec).describeAsDot()
        #expect(dot.contains(#"k\"ey\\x -> key group"#))
        // Every quote that is not escaped opens or closes a string: an even count per line.
        for line in dot.split(separator: "\n") {
            let text = line.replacingOccurrences(of: #"\\"#, with: "").replacingOccurrences(of: #"\""#, with: "")
            #expect(text.filter { $0 == "\"" }.count % 2 == 0, "\(line)")
        }
    }
}
