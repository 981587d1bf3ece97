import Foundation

extension JobSpec {
    static let rootKeys = ["code", "keys", "time", "timeUnit", "watermark", "maxParallelism", "dict", "emit", "carry"]
    static let featureKeys = ["name", "type", "operator", "field", "window", "limit"]

    /// Reads and validates a job spec file.
    public static func load(path: String) throws(SpecErrors) -> (spec: JobSpec, warnings: [SpecDiagnostic]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "it is not readable" : "no such file"
            throw SpecErrors([SpecDiagnostic(.error, path: "$", "cannot read \(path): \(reason)")])
        }
        return try decode([UInt8](data))
    }

    /// Decodes and validates a spec, collecting every error (in document order) rather than
    /// stopping at the first, each with its JSON path and what would fix it.
    public static func decode(_ bytes: [UInt8]) throws(SpecErrors) -> (spec: JobSpec, warnings: [SpecDiagnostic]) {
        let document: SpecJSON
        do {
            document = try SpecJSON.parse(bytes)
        } catch {
            throw SpecErrors([SpecDiagnostic(.error, path: "$", "not valid JSON: \(error.description)")])
        }
        var decoder = SpecDecoder()
        let spec = decoder.decodeJob(document)
        let errors = decoder.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty, let spec else { throw SpecErrors(errors) }
        return (spec, decoder.diagnostics.filter { $0.severity == .warning })
    }
}

extension FeatureOperator {
    /// The state type an operator gets when `type` is omitted.
    var inferredType: StateType {
        switch self {
        case .first, .last: .value
        case .count, .sum, .min, .max: .reducing
        case .avg, .stddev: .aggregating
        case .countDistinct, .histogram: .map
        case .collect: .list
        }
    }

    /// Operators that read no field when none is given.
    var fieldIsOptional: Bool { self == .count }
}

extension StateType {
    var operators: [FeatureOperator] {
        switch self {
        case .value: [.first, .last]
        case .reducing: [.count, .sum, .min, .max]
        case .aggregating, .folding: [.count, .sum, .min, .max, .avg, .stddev]
        case .map: [.countDistinct, .histogram]
        case .list: [.collect]
        }
    }
}

private struct SpecDecoder {
    var diagnostics: [SpecDiagnostic] = []

    mutating func error(_ path: String, _ message: String) {
        diagnostics.append(SpecDiagnostic(.error, path: path, message))
    }

    mutating func decodeJob(_ document: SpecJSON) -> JobSpec? {
        guard case .object(let members) = document else {
            error("$", "a job spec is a JSON object with \"code\", \"keys\" and \"dict\", found \(document.kindDescription)")
            return nil
        }
        let root = checkedMembers(members, path: "", allowed: JobSpec.rootKeys)

        let code = requiredString(root["code"], path: "code", example: "\"card_velocity\"")
        if let code, code.isEmpty || !code.utf8.allSatisfy({ isCodeCharacter($0) }) {
            error("code", "\"\(code)\" is not a valid code; use letters, digits, '_', '.' and '-' only (it names state and checkpoint directories)")
        }

        let keys = decodeKeys(root["keys"])
        let time = root["time"].flatMap { optionalString($0, path: "time", example: "\"ts\"") }
        var timeUnit = TimeUnit.milliseconds
        if let unit = root["timeUnit"] {
            if case .string(let text) = unit, let parsed = TimeUnit(rawValue: text) {
                timeUnit = parsed
            } else {
                let found = if case .string(let text) = unit { "\"\(text)\"" } else { unit.kindDescription }
                error("timeUnit", "expected \"s\", \"ms\" or \"us\" (the unit of epoch-number times), found \(found)")
            }
            if time == nil { error("timeUnit", "timeUnit needs a time column; add \"time\": \"<column>\", or remove timeUnit") }
        }
        var watermark = EventDuration(microseconds: 0, text: "0s")
        if let value = root["watermark"] {
            if let parsed = duration(value, path: "watermark") { watermark = parsed }
            if time == nil { error("watermark", "a watermark needs event time; add \"time\": \"<column>\", or remove the watermark") }
        }
        var maxParallelism = 128
        if let value = root["maxParallelism"] {
            if case .number(let number, true) = value, number >= 1, number <= Double(KeyGroups.maxSupportedParallelism) {
                maxParallelism = Int(number)
            } else {
                error("maxParallelism", "expected an integer from 1 to \(KeyGroups.maxSupportedParallelism) (the number of key groups), found \(describe(value))")
            }
        }
        if let emit = root["emit"] { decodeEmit(emit) }
        let features = decodeFeatures(root["dict"], keys: keys ?? [], time: time)
        let carry = root["carry"].map { decodeCarry($0, keys: keys ?? [], time: time, features: features ?? []) } ?? Carry.none

        guard let code, let keys, let features else { return nil }
        return JobSpec(
            code: code, keys: keys, time: time, timeUnit: timeUnit, watermark: watermark,
            maxParallelism: maxParallelism, features: features, emit: .event, carry: carry)
    }

    /// The members as a dictionary, after reporting unknown and repeated keys.
    mutating func checkedMembers(_ members: [SpecJSON.Member], path: String, allowed: [String]) -> [String: SpecJSON] {
        var result: [String: SpecJSON] = [:]
        for member in members {
            let memberPath = path.isEmpty ? member.key : "\(path).\(member.key)"
            if result[member.key] != nil {
                error(memberPath, "\"\(member.key)\" is given twice; keep one")
                continue
            }
            guard allowed.contains(member.key) else {
                error(memberPath, "unknown key; " + suggestion(for: member.key, among: allowed))
                continue
            }
            result[member.key] = member.value
        }
        return result
    }

    mutating func requiredString(_ value: SpecJSON?, path: String, example: String) -> String? {
        guard let value else {
            error(path.isEmpty ? "$" : path, "missing \"\(path.split(separator: ".").last ?? "")\" (for example \(example))")
            return nil
        }
        return optionalString(value, path: path, example: example)
    }

    mutating func optionalString(_ value: SpecJSON, path: String, example: String) -> String? {
        guard case .string(let text) = value else {
            error(path, "expected a string such as \(example), found \(value.kindDescription)")
            return nil
        }
        if text.isEmpty {
            error(path, "must not be empty (for example \(example))")
            return nil
        }
        return text
    }

    mutating func duration(_ value: SpecJSON, path: String) -> EventDuration? {
        guard case .string(let text) = value, let parsed = EventDuration.parse(text) else {
            error(path, "expected a duration such as \"5s\", \"500ms\", \"1h30m\" or \"7d\" (units us, ms, s, m, h, d, w), found \(describe(value))")
            return nil
        }
        return parsed
    }

    func describe(_ value: SpecJSON) -> String {
        switch value {
        case .string(let text): "\"\(text)\""
        case .number(let number, let isInteger): isInteger ? String(Int64(number)) : String(number)
        default: value.kindDescription
        }
    }

    mutating func decodeKeys(_ value: SpecJSON?) -> [String]? {
        guard let value else {
            error("$", "missing \"keys\": the columns that key the stream, e.g. \"keys\": [\"card_id\"]")
            return nil
        }
        guard case .array(let items) = value else {
            let hint = if case .string(let text) = value { "[\"\(text)\"]" } else { "[\"card_id\"]" }
            error("keys", "expected an array of column names, e.g. \(hint)")
            return nil
        }
        guard !items.isEmpty else {
            error("keys", "needs at least one column, e.g. [\"card_id\"]")
            return nil
        }
        var keys: [String] = []
        var valid = true
        for (index, item) in items.enumerated() {
            guard let name = optionalString(item, path: "keys[\(index)]", example: "\"card_id\"") else {
                valid = false
                continue
            }
            if keys.contains(name) {
                error("keys[\(index)]", "\"\(name)\" is already a key column; list each column once")
                valid = false
            }
            keys.append(name)
        }
        return valid ? keys : nil
    }

    mutating func decodeEmit(_ value: SpecJSON) {
        switch value {
        case .string("event"):
            return
        case .object(let members) where members.count == 1 && ["tumbling", "hopping", "session"].contains(members[0].key):
            error("emit", "windowed emission (\"\(members[0].key)\") is not supported yet; use \"event\"")
        default:
            error("emit", "expected \"event\" (one output record per input event), found \(describe(value))")
        }
    }

    mutating func decodeFeatures(_ value: SpecJSON?, keys: [String], time: String?) -> [FeatureSpec]? {
        guard let value else {
            error("$", "missing \"dict\": the features to compute, e.g. \"dict\": [{\"name\": \"n\", \"operator\": \"count\"}]")
            return nil
        }
        guard case .array(let items) = value, !items.isEmpty else {
            error("dict", "expected a non-empty array of features, e.g. [{\"name\": \"n\", \"operator\": \"count\"}]")
            return nil
        }
        var features: [FeatureSpec] = []
        var namesSeen: [String: Int] = [:]
        var valid = true
        for (index, item) in items.enumerated() {
            let path = "dict[\(index)]"
            guard let feature = decodeFeature(item, path: path, time: time) else {
                valid = false
                continue
            }
            if let previous = namesSeen[feature.name] {
                error("\(path).name", "\"\(feature.name)\" is already used by dict[\(previous)]; feature names must be unique")
                valid = false
            } else if keys.contains(feature.name) || feature.name == time {
                error("\(path).name", "\"\(feature.name)\" is already an output column (a key or the time column); choose another name")
                valid = false
            }
            namesSeen[feature.name] = namesSeen[feature.name] ?? index
            features.append(feature)
        }
        return valid ? features : nil
    }

    mutating func decodeFeature(_ value: SpecJSON, path: String, time: String?) -> FeatureSpec? {
        guard case .object(let members) = value else {
            error(path, "expected a feature object such as {\"name\": \"n\", \"operator\": \"count\"}, found \(value.kindDescription)")
            return nil
        }
        let errorsBefore = diagnostics.count
        let entry = checkedMembers(members, path: path, allowed: JobSpec.featureKeys)
        let name = requiredString(entry["name"], path: "\(path).name", example: "\"amount_sum\"")

        var op: FeatureOperator?
        let operators = FeatureOperator.allCases.map(\.rawValue)
        if let value = entry["operator"] {
            if case .string(let text) = value {
                op = FeatureOperator(rawValue: text)
                if op == nil { error("\(path).operator", "unknown operator \"\(text)\"; " + suggestion(for: text, among: operators)) }
            } else {
                error("\(path).operator", "expected an operator name such as \"sum\", found \(value.kindDescription)")
            }
        } else {
            error(path, "missing \"operator\" (one of " + operators.map { "\"\($0)\"" }.joined(separator: ", ") + ")")
        }

        var type: StateType?
        if let value = entry["type"] {
            let types = StateType.allCases.map(\.rawValue)
            if case .string(let text) = value {
                type = StateType(rawValue: text)
                if type == nil { error("\(path).type", "unknown type \"\(text)\"; " + suggestion(for: text, among: types)) }
                if type == .folding {
                    diagnostics.append(SpecDiagnostic(.warning, path: "\(path).type", "\"folding\" is deprecated (as Flink deprecated FoldingState); use \"aggregating\""))
                }
            } else {
                error("\(path).type", "expected a state type such as \"reducing\", found \(value.kindDescription)")
            }
        }
        if let op, let given = type, !given.operators.contains(op) {
            let fitting = StateType.allCases.filter { $0 != .folding && $0.operators.contains(op) }.map { "\"\($0.rawValue)\"" }
            error(path, "operator \"\(op.rawValue)\" needs type \(fitting.joined(separator: " or ")), not \"\(given.rawValue)\"")
        }

        var field: String?
        if let value = entry["field"] {
            field = optionalString(value, path: "\(path).field", example: "\"amount\"")
        } else if let op, !op.fieldIsOptional {
            error(path, "operator \"\(op.rawValue)\" needs a \"field\" (the input column to read)")
        }

        var window: EventDuration?
        if let value = entry["window"] {
            window = duration(value, path: "\(path).window")
            if let parsed = window, parsed.microseconds <= 0 {
                error("\(path).window", "a lookback window must be longer than 0; remove it to aggregate over all events")
            }
            if time == nil {
                error("\(path).window", "a lookback window needs event time; add \"time\": \"<column>\" to the job, or remove the window")
            }
        }

        var limit: Int?
        if let value = entry["limit"] {
            if case .number(let number, true) = value, number >= 1, number <= Double(Int32.max) {
                limit = Int(number)
            } else {
                error("\(path).limit", "expected a positive integer (how many of the newest values to keep), found \(describe(value))")
            }
            if let op, op != .collect {
                error("\(path).limit", "limit only applies to \"collect\"; remove it")
            }
        }

        guard diagnostics.count == errorsBefore || !diagnostics[errorsBefore...].contains(where: { $0.severity == .error }),
              let name, let op else { return nil }
        return FeatureSpec(name: name, type: type ?? op.inferredType, op: op, field: field, window: window, limit: limit)
    }

    mutating func decodeCarry(_ value: SpecJSON, keys: [String], time: String?, features: [FeatureSpec]) -> Carry {
        guard case .array(let items) = value else {
            error("carry", "expected an array of column names, or [\"*\"] for all columns")
            return .none
        }
        var columns: [String] = []
        for (index, item) in items.enumerated() {
            let path = "carry[\(index)]"
            guard let name = optionalString(item, path: path, example: "\"merchant\"") else { continue }
            if name == "*" {
                if items.count > 1 { error(path, "\"*\" carries every column; use it alone") }
                continue
            }
            if columns.contains(name) {
                error(path, "\"\(name)\" is carried twice; list it once")
            } else if keys.contains(name) || name == time {
                error(path, "\"\(name)\" is a key or the time column, which every output record has already; remove it")
            } else if features.contains(where: { $0.name == name }) {
                error(path, "\"\(name)\" is also a feature name; rename the feature or stop carrying the column")
            }
            columns.append(name)
        }
        if items.count == 1, case .string("*") = items[0] { return .all }
        return columns.isEmpty ? .none : .columns(columns)
    }
}

private func isCodeCharacter(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
         UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
        true
    default:
        false
    }
}
