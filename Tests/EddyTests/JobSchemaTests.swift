import Foundation
import Testing
@testable import Eddy

/// The keywords of draft 2020-12 the job schema uses; `SchemaCheck` implements each
/// assertion among them, and a test fails if the schema starts using another one.
private let knownKeywords: Set<String> = [
    "$schema", "$id", "title", "description", "$comment", "deprecated", "$defs", "$ref",
    "type", "enum", "const", "pattern", "minLength", "minimum", "maximum",
    "required", "properties", "additionalProperties", "dependentRequired",
    "items", "minItems", "uniqueItems", "contains",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
]

/// A small validator of the subset of JSON Schema 2020-12 above, so the tests can check the
/// schema against the decoder without Python. (`if` without `then` or `else`, unevaluated
/// properties and the rest of the draft are not needed.)
private struct SchemaCheck {
    let root: SpecJSON

    func valid(_ value: SpecJSON) -> Bool { valid(value, root) }

    private func valid(_ value: SpecJSON, _ schema: SpecJSON) -> Bool {
        if case .bool(let accepts) = schema { return accepts }
        guard case .object(let members) = schema else { return false }
        for (keyword, argument) in members where !holds(keyword, argument, value, schema) { return false }
        return true
    }

    private func holds(_ keyword: String, _ argument: SpecJSON, _ value: SpecJSON, _ schema: SpecJSON) -> Bool {
        switch keyword {
        case "$ref":
            guard case .string(let reference) = argument, reference.hasPrefix("#/$defs/"),
                  let definition = root["$defs"]?[String(reference.dropFirst(8))] else { return false }
            return valid(value, definition)
        case "type":
            guard case .string(let type) = argument else { return false }
            switch (type, value) {
            case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null): return true
            case ("number", .number): return true
            case ("integer", .number(let number, _)): return number.rounded() == number
            default: return false
            }
        case "enum":
            guard case .array(let allowed) = argument else { return false }
            return allowed.contains { equal($0, value) }
        case "const": return equal(argument, value)
        case "pattern":
            guard case .string(let text) = value else { return true }
            guard case .string(let pattern) = argument, let regex = try? NSRegularExpression(pattern: pattern) else { return false }
            return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        case "minLength":
            guard case .string(let text) = value else { return true }
            return text.unicodeScalars.count >= bound(argument)
        case "minimum":
            guard case .number(let number, _) = value else { return true }
            return number >= Double(bound(argument))
        case "maximum":
            guard case .number(let number, _) = value else { return true }
            return number <= Double(bound(argument))
        case "required":
            guard case .object(let members) = value else { return true }
            return names(argument).allSatisfy { name in members.contains { $0.key == name } }
        case "properties":
            guard case .object(let members) = value else { return true }
            return members.allSatisfy { member in argument[member.key].map { valid(member.value, $0) } ?? true }
        case "additionalProperties":
            guard case .object(let members) = value else { return true }
            return members.allSatisfy { member in schema["properties"]?[member.key] != nil || valid(member.value, argument) }
        case "dependentRequired":
            guard case .object(let members) = value, case .object(let dependencies) = argument else { return true }
            return dependencies.allSatisfy { dependency in
                !members.contains { $0.key == dependency.key } || names(dependency.value).allSatisfy { name in members.contains { $0.key == name } }
            }
        case "items":
            guard case .array(let elements) = value else { return true }
            return elements.allSatisfy { valid($0, argument) }
        case "minItems":
            guard case .array(let elements) = value else { return true }
            return elements.count >= bound(argument)
        case "uniqueItems":
            guard case .array(let elements) = value, argument == .bool(true) else { return true }
            return elements.indices.allSatisfy { i in !elements[..<i].contains { equal($0, elements[i]) } }
        case "contains":
            guard case .array(let elements) = value else { return true }
            return elements.contains { valid($0, argument) }
        case "allOf": return subschemas(argument).allSatisfy { valid(value, $0) }
        case "anyOf": return subschemas(argument).contains { valid(value, $0) }
        case "oneOf": return subschemas(argument).filter { valid(value, $0) }.count == 1
        case "not": return !valid(value, argument)
        case "if":
            let branch = valid(value, argument) ? schema["then"] : schema["else"]
            return branch.map { valid(value, $0) } ?? true
        case "then", "else", "$schema", "$id", "title", "description", "$comment", "deprecated", "$defs": return true
        default:
            Issue.record("the schema uses \(keyword), which SchemaCheck does not implement")
            return false
        }
    }

    /// JSON equality: numbers by value (1 and 1.0 are equal), objects without regard to order.
    private func equal(_ a: SpecJSON, _ b: SpecJSON) -> Bool {
        switch (a, b) {
        case let (.number(x, _), .number(y, _)): return x == y
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case let (.object(x), .object(y)):
            return x.count == y.count && x.allSatisfy { member in y.contains { $0.key == member.key && equal($0.value, member.value) } }
        default: return a == b
        }
    }

    private func bound(_ value: SpecJSON) -> Int {
        if case .number(let number, _) = value { return Int(number) }
        return 0
    }

    private func names(_ value: SpecJSON) -> [String] {
        guard case .array(let elements) = value else { return [] }
        return elements.compactMap { if case .string(let name) = $0 { name } else { nil } }
    }

    private func subschemas(_ value: SpecJSON) -> [SpecJSON] {
        if case .array(let elements) = value { return elements }
        return []
    }
}

/// Every keyword used anywhere in the schema (member names of schema objects; the names
/// under `properties`, `$defs` and `dependentRequired` are not keywords).
private func keywords(in schema: SpecJSON) -> Set<String> {
    switch schema {
    case .object(let members):
        var found = Set<String>()
        for (key, value) in members {
            found.insert(key)
            switch key {
            case "properties", "$defs":
                if case .object(let named) = value { for member in named { found.formUnion(keywords(in: member.value)) } }
            case "dependentRequired", "enum", "const", "required": break
            default: found.formUnion(keywords(in: value))
            }
        }
        return found
    case .array(let elements): return elements.reduce(into: Set<String>()) { $0.formUnion(keywords(in: $1)) }
    default: return []
    }
}

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func decoderAccepts(_ json: String) -> Bool { (try? specDecode(json)) != nil }

private func schemaAccepts(_ json: String) throws -> Bool {
    SchemaCheck(root: JobSchema.document).valid(try SpecJSON.parse(json))
}

@Suite("The job spec's JSON Schema")
struct JobSchemaTests {
    @Test func theTextIsTheDocumentAndUsesOnlyCheckedKeywords() throws {
        #expect(try SpecJSON.parse(JobSchema.text) == JobSchema.document)
        let used = keywords(in: JobSchema.document)
        #expect(used.isSubset(of: knownKeywords), "unchecked keywords: \(used.subtracting(knownKeywords).sorted())")
        #expect(JobSchema.document["$schema"] == .string("https://json-schema.org/draft/2020-12/schema"))
    }

    @Test func membersAndEnumsAreTheDecoders() throws {
        let schema = JobSchema.document
        func keys(_ value: SpecJSON?) -> [String] {
            guard case .object(let members)? = value else { return [] }
            return members.map(\.key)
        }
        func strings(_ value: SpecJSON?) -> Set<String> {
            guard case .array(let elements)? = value else { return [] }
            return Set(elements.compactMap { if case .string(let text) = $0 { text } else { nil } })
        }
        #expect(keys(schema["properties"]) == JobSpecDecoder.rootKeys)
        let feature = try #require(schema["$defs"]?["feature"])
        #expect(keys(feature["properties"]) == JobSpecDecoder.featureKeys)
        #expect(schema["additionalProperties"] == .bool(false) && feature["additionalProperties"] == .bool(false))
        #expect(strings(feature["properties"]?["operator"]?["enum"]) == Set(FeatureOperator.allCases.map(\.rawValue)))
        guard case .array(let typeChoices)? = feature["properties"]?["type"]?["anyOf"] else {
            Issue.record("type is an anyOf of the types and the deprecated folding")
            return
        }
        #expect(strings(typeChoices[0]["enum"]).union([typeChoices[1]["const"]].compactMap { if case .string(let t)? = $0 { t } else { nil } })
            == Set(StateType.allCases.map(\.rawValue)))
        #expect(strings(schema["properties"]?["timeUnit"]?["enum"]) == Set(TimeUnit.allCases.map(\.rawValue)))
        #expect(schema["properties"]?["maxParallelism"]?["maximum"] == .number(Double(JobSpecDecoder.maxParallelismBound), isInteger: true))
        guard case .array(let modes)? = schema["properties"]?["emit"]?["oneOf"] else {
            Issue.record("emit is a oneOf")
            return
        }
        #expect(modes.count == 1 + JobSpecDecoder.windowedEmitModes.count)
    }

    /// Every state type against every operator, in a job: the schema accepts exactly the
    /// pairs the decoder accepts.
    @Test func whichOperatorFitsWhichTypeIsTheDecoders() throws {
        for type in StateType.allCases {
            for op in FeatureOperator.allCases {
                var entry = #"{"name": "f", "type": "\#(type.rawValue)", "operator": "\#(op.rawValue)", "field": "v""#
                if op == .lookup { entry += #", "from": "b", "column": "c""# }
                let json = specFeature(entry + "}")
                #expect(try schemaAccepts(json) == decoderAccepts(json), "\(type.rawValue) with \(op.rawValue)")
            }
        }
    }

    /// The duration patterns against the parser, over numbers and every run of one or two
    /// lowercase letters, alone and in pairs.
    @Test func durationPatternsAreTheParsers() throws {
        let letters = (UInt8(ascii: "a")...UInt8(ascii: "z")).map { String(UnicodeScalar($0)) }
        let units = letters + letters.flatMap { first in letters.map { first + $0 } } + [""]
        var texts = ["", "1", "s", "-1s", "1.5s", "1 s", "1S", "1h30", "0s0m", "00s", "1s1", " 1s"]
        for unit in units { texts += ["0" + unit, "1" + unit, "12" + unit] }
        for first in JobSchema.durationUnits { for second in JobSchema.durationUnits + ["x", "sm"] { texts += ["1\(first)2\(second)", "0\(first)0\(second)"] } }
        let duration = try NSRegularExpression(pattern: JobSchema.durationPattern)
        let positive = try NSRegularExpression(pattern: JobSchema.positiveDurationPattern)
        func matches(_ regex: NSRegularExpression, _ text: String) -> Bool {
            regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
        for text in texts {
            let parsed = EventDuration.parse(text)
            #expect(matches(duration, text) == (parsed != nil), "\(text)")
            #expect(matches(positive, text) == ((parsed?.microseconds ?? 0) > 0), "\(text)")
        }
    }

    @Test func everyExampleJobValidates() throws {
        let jobs = try FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("jobs").path)
            .filter { $0.hasSuffix(".json") }
        #expect(jobs.count >= 7)
        for job in jobs {
            let text = try String(contentsOf: repository.appendingPathComponent("jobs/" + job), encoding: .utf8)
            #expect(decoderAccepts(text), "\(job)")
            #expect(try schemaAccepts(text), "\(job) validates against the schema")
        }
    }

    /// Specs the decoder refuses for a reason one document can show are refused by the
    /// schema too; the valid variants beside them are accepted by both.
    @Test func specsTheDecoderRefusesTheSchemaRefuses() throws {
        let time = #""time": "ts""#
        let refused = [
            #"{"keys": ["k"], "dict": [{"name": "n", "operator": "count"}]}"#,
            specJob(code: #""a b""#), specJob(code: #""..""#), specJob(code: #""""#), specJob(code: "3"),
            specJob(keys: "[]"), specJob(keys: #""k""#), specJob(keys: #"["k", "k"]"#), specJob(keys: #"[""]"#),
            specJob(#""time": """#), specJob(#"\#(time), "timeUnit": "ns""#), specJob(#""timeUnit": "s""#),
            specJob(#"\#(time), "watermark": "5 s""#), specJob(#"\#(time), "watermark": "1.5s""#), specJob(#""watermark": "5s""#),
            specJob(#""maxParallelism": 0"#), specJob(#""maxParallelism": 32769"#), specJob(#""maxParallelism": "8""#),
            specJob(#"\#(time), "emit": "events""#), specJob(#"\#(time), "emit": {"tumbling": "0s"}"#),
            specJob(#"\#(time), "emit": {"hopping": {"size": "1h"}}"#), specJob(#"\#(time), "emit": {"session": "30m"}"#),
            specJob(#"\#(time), "emit": {"tumbling": "1h", "session": {"gap": "1m"}}"#), specJob(#""emit": {"tumbling": "1h"}"#),
            specJob(#"\#(time), "emit": {"tumbling": "1h"}, "carry": ["x"]"#), specJob(#"\#(time), "emit": {"tumbling": "1h"}, "ttl": "1d""#),
            specJob(#"\#(time), "emit": {"tumbling": "1h"}"#, dict: #"[{"name": "window_end", "operator": "count"}]"#),
            specJob(#""carry": ["*", "x"]"#), specJob(#""carry": ["x", "x"]"#), specJob(#""carry": "x""#),
            specJob(#"\#(time), "ttl": "0s""#), specJob(#""ttl": "1d""#), specJob(#""codes": "x""#),
            specJob(dict: "[]"), specJob(dict: "{}"),
            specFeature(#"{"name": "n", "operator": "count", "fields": "x"}"#), specFeature(#"{"operator": "count"}"#),
            specFeature(#"{"name": "n"}"#), specFeature(#"{"name": "n", "operator": "cnt"}"#),
            specFeature(#"{"name": "n", "type": "reduce", "operator": "count"}"#), specFeature(#"{"name": "s", "operator": "sum"}"#),
            specFeature(#"{"name": "s", "operator": "sum", "field": "v", "limit": 3}"#),
            specFeature(#"{"name": "c", "operator": "collect", "field": "v", "limit": 0}"#),
            specFeature(#"{"name": "c", "operator": "collect", "field": "v", "limit": "3"}"#),
            specFeature(#"{"name": "s", "operator": "sum", "field": "v", "window": "1 h"}"#),
            specFeature(#"{"name": "s", "operator": "sum", "field": "v", "window": "0m"}"#),
            specFeature(#"{"name": "s", "operator": "sum", "field": "v", "window": 60}"#),
            specJob(dict: #"[{"name": "s", "operator": "sum", "field": "v", "window": "1h"}]"#),
            specFeature(#"{"name": "s", "operator": "sum", "field": "v", "from": "m"}"#),
            specFeature(#"{"name": "t", "operator": "lookup", "field": "v", "from": "m"}"#),
            specFeature(#"{"name": "t", "operator": "lookup", "field": "v", "from": "m", "column": "c", "window": "1h"}"#),
            specFeature(#"{"name": "t", "operator": "lookup", "field": "v", "from": "m n", "column": "c"}"#),
            specFeature(#"{"name": "t", "operator": "lookup", "field": "v", "from": "m", "column": "c"}"#, root: #"\#(time), "emit": {"tumbling": "1h"}"#),
            specFeature(#"{"name": "s", "operator": "sum", "field": ""}"#), specFeature(#"{"name": "", "operator": "count"}"#),
        ]
        for json in refused {
            #expect(!decoderAccepts(json), "the decoder refuses \(json)")
            #expect(try !schemaAccepts(json), "the schema refuses \(json)")
        }
        let accepted = [
            specJob(#"\#(time), "timeUnit": "us", "watermark": "1h30m", "maxParallelism": 32768, "ttl": "30d", "carry": ["x", "y"]"#),
            specJob(#"\#(time), "emit": {"hopping": {"size": "1h", "slide": "10m"}}"#), specJob(#"\#(time), "emit": {"session": {"gap": "30m"}}"#),
            specJob(#""carry": ["*"]"#), specJob(#""carry": []"#), specJob(#""emit": "event""#),
            specFeature(#"{"name": "n", "type": "folding", "operator": "avg", "field": "v"}"#),
            specFeature(#"{"name": "t", "operator": "lookup", "field": "v", "from": "m.v-2", "column": "c", "key": "id"}"#),
            specFeature(#"{"name": "c", "operator": "collect", "field": "v", "limit": 5, "window": "7d"}"#),
        ]
        for json in accepted {
            #expect(decoderAccepts(json), "the decoder accepts \(json)")
            #expect(try schemaAccepts(json), "the schema accepts \(json)")
        }
    }
}
