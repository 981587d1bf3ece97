import Foundation

extension JobSpec {
    /// Decodes and validates a job spec (DESIGN section 2).
    ///
    /// Collects every error, not just the first, so a user fixes a spec in one round trip.
    /// Diagnostics come in document order: an object's own findings (a missing key, an
    /// operator/type mismatch) before those of its members, members in the order written.
    /// A syntax error is a single diagnostic at `$` with its line and column. The thrown
    /// `SpecErrors` holds errors only; warnings are returned with the spec when it is valid.
    public static func decode(_ bytes: [UInt8]) throws(SpecErrors) -> (spec: JobSpec, warnings: [SpecDiagnostic]) {
        let document = try SpecJSON.parse(bytes)
        var decoder = JobSpecDecoder()
        let spec = decoder.decodeJob(document)
        let (errors, warnings) = decoder.finish()
        guard errors.isEmpty, let spec else {
            // A nil spec without an error would be a decoder bug; never return half a spec.
            throw SpecErrors(errors.isEmpty ? [SpecDiagnostic(.error, path: "$", "internal error: spec incomplete")] : errors)
        }
        return (spec, warnings)
    }

    /// Reads and decodes the spec file at `path`. An unreadable file is a `SpecErrors` at `$`
    /// (`cannot read <path>: <reason>`), so callers report every spec problem the same way.
    public static func load(path: String) throws(SpecErrors) -> (spec: JobSpec, warnings: [SpecDiagnostic]) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SpecErrors([SpecDiagnostic(.error, path: "$", "cannot read \(path): \(readFailureReason(path, error))")])
        }
        return try decode([UInt8](data))
    }

    /// A short reason rather than Foundation's long localized sentence, which repeats the
    /// path and varies between platforms.
    private static func readFailureReason(_ path: String, _ error: any Error) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            return "no such file"
        }
        if isDirectory.boolValue { return "it is a directory" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return (error as NSError).localizedDescription
    }
}

/// Where a value sits: its path for messages and its position in document order for
/// sorting (member or element index at each level, so a parent sorts before its children).
struct SpecLocation {
    var path: String
    var order: [Int]

    static let root = SpecLocation(path: SpecPath.root, order: [])

    func member(_ key: String, at index: Int) -> SpecLocation {
        SpecLocation(path: SpecPath.member(path, key), order: order + [index])
    }

    func element(_ index: Int) -> SpecLocation {
        SpecLocation(path: SpecPath.element(path, index), order: order + [index])
    }
}

/// The validation pass. Checks are written per member in whatever order is convenient
/// (cross-member checks read a pre-computed context), and `finish` sorts the findings
/// into document order.
struct JobSpecDecoder {
    static let rootKeys = ["code", "keys", "time", "timeUnit", "watermark", "maxParallelism", "emit", "carry", "ttl", "dict"]
    static let featureKeys = ["name", "type", "operator", "field", "window", "limit", "from", "column", "key"]
    /// Flink's upper bound for max parallelism (KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM).
    static let maxParallelismBound = 32768
    static let windowedEmitModes = ["tumbling", "hopping", "session"]
    static let watermarkExamples = "\"5s\", \"500ms\" or \"1h30m\""
    static let windowExamples = "\"90s\", \"1h\" or \"7d\""

    private var found: [(order: [Int], sequence: Int, diagnostic: SpecDiagnostic)] = []

    /// What cross-member checks need to know about the rest of the document, read up front
    /// leniently (a malformed member contributes nothing here; its own check reports it).
    private struct Context {
        /// `time` is present at all, even if malformed: its own error is enough, so
        /// `watermark` and `window` are not also told to add it.
        var hasTime = false
        var timeColumn: String?
        /// `emit` asks for windows (an object), even if malformed.
        var windowedEmit = false
        var keyColumns: Set<String> = []
        /// Feature name -> index of the first entry using it.
        var featureIndex: [String: Int] = [:]
    }

    private var context = Context()

    mutating func finish() -> (errors: [SpecDiagnostic], warnings: [SpecDiagnostic]) {
        let sorted = found.sorted { a, b in
            a.order == b.order ? a.sequence < b.sequence : a.order.lexicographicallyPrecedes(b.order)
        }.map(\.diagnostic)
        return (sorted.filter { $0.severity == .error }, sorted.filter { $0.severity == .warning })
    }

    private mutating func error(_ at: SpecLocation, _ message: String) {
        found.append((at.order, found.count, SpecDiagnostic(.error, path: at.path, message)))
    }

    private mutating func warning(_ at: SpecLocation, _ message: String) {
        found.append((at.order, found.count, SpecDiagnostic(.warning, path: at.path, message)))
    }

    // MARK: Root

    mutating func decodeJob(_ document: SpecJSON) -> JobSpec? {
        let root = SpecLocation.root
        guard case .object(let members) = document else {
            error(root, "expected a JSON object with \"code\", \"keys\" and \"dict\", found \(specFound(document))")
            return nil
        }
        buildContext(members)

        let present = Set(members.map(\.key))
        if !present.contains("code") {
            error(root, "missing required key \"code\" (the job's identifier, e.g. \"card_velocity\")")
        }
        if !present.contains("keys") {
            error(root, "missing required key \"keys\" (the columns that key the stream, e.g. [\"card_id\"])")
        }
        if !present.contains("dict") {
            error(root, "missing required key \"dict\" (the features, e.g. [{\"name\": \"txn_count\", \"operator\": \"count\"}])")
        }

        var code: String?
        var keys: [String]?
        var time: String?
        var timeUnit = TimeUnit.milliseconds
        var watermark = EventDuration(microseconds: 0, text: "0s")
        var maxParallelism = 128
        var emit = EmitMode.event
        var carry = Carry.none
        var ttl: EventDuration?
        var features: [FeatureSpec]?

        for (index, member) in members.enumerated() {
            let at = root.member(member.key, at: index)
            let value = member.value
            switch member.key {
            case "code": code = decodeCode(value, at)
            case "keys": keys = decodeKeys(value, at)
            case "time": time = decodeTime(value, at)
            case "timeUnit": timeUnit = decodeTimeUnit(value, at) ?? timeUnit
            case "watermark": watermark = decodeWatermark(value, at) ?? watermark
            case "maxParallelism": maxParallelism = decodeMaxParallelism(value, at) ?? maxParallelism
            case "emit": emit = decodeEmit(value, at) ?? emit
            case "carry": carry = decodeCarry(value, at) ?? carry
            case "ttl": ttl = decodeTTL(value, at)
            case "dict": features = decodeDict(value, at)
            default: unknownKey(member.key, at, allowed: Self.rootKeys)
            }
        }
        guard let code, let keys, let features else { return nil }
        return JobSpec(
            code: code, keys: keys, time: time, timeUnit: timeUnit, watermark: watermark,
            maxParallelism: maxParallelism, features: features, emit: emit, carry: carry, ttl: ttl)
    }

    private mutating func buildContext(_ members: [(key: String, value: SpecJSON)]) {
        for member in members {
            switch (member.key, member.value) {
            case ("time", let value):
                context.hasTime = true
                if case .string(let name) = value, !name.isEmpty { context.timeColumn = name }
            case ("emit", .object):
                context.windowedEmit = true
            case ("keys", .array(let elements)):
                for case .string(let name) in elements where !name.isEmpty { context.keyColumns.insert(name) }
            case ("dict", .array(let entries)):
                for (index, entry) in entries.enumerated() {
                    if case .string(let name)? = entry["name"], !name.isEmpty, context.featureIndex[name] == nil {
                        context.featureIndex[name] = index
                    }
                }
            default: break
            }
        }
    }

    private mutating func unknownKey(_ key: String, _ at: SpecLocation, allowed: [String]) {
        if let suggestion = Suggest.closest(to: key, in: allowed) {
            error(at, "unknown key; did you mean \(specQuoted(suggestion))?")
        } else {
            error(at, "unknown key; allowed keys are \(specList(allowed, conjunction: "and"))")
        }
    }

    // MARK: Root members

    private mutating func decodeCode(_ value: SpecJSON, _ at: SpecLocation) -> String? {
        guard case .string(let code) = value else {
            error(at, "expected the job's identifier (a string such as \"card_velocity\"), found \(specFound(value))")
            return nil
        }
        let allowed = "use only letters, digits, '_', '.' and '-'"
        if code.isEmpty {
            error(at, "must not be empty; \(allowed)")
            return nil
        }
        let valid = code.unicodeScalars.allSatisfy { s in
            ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "_" || s == "." || s == "-"
        }
        guard valid else {
            error(at, "\(specQuoted(code)) is not a valid job code; \(allowed)")
            return nil
        }
        // The code names a state and checkpoint directory; "." and ".." would alias the
        // parent directories although they match the character rule.
        guard code != "." && code != ".." else {
            error(at, "\(specQuoted(code)) is not a valid job code; it must contain a letter, digit, '_' or '-'")
            return nil
        }
        return code
    }

    private mutating func decodeKeys(_ value: SpecJSON, _ at: SpecLocation) -> [String]? {
        guard case .array(let elements) = value else {
            if case .string(let single) = value, !single.isEmpty {
                // The likely intent is one key column; show the fix with the user's own name.
                error(at, "expected an array of column names, e.g. [\(specQuoted(single))]")
            } else {
                error(at, "expected an array of column names, e.g. [\"card_id\"], found \(specFound(value))")
            }
            return nil
        }
        guard !elements.isEmpty else {
            error(at, "needs at least one column name, e.g. [\"card_id\"]")
            return nil
        }
        return decodeColumnList(Array(elements.enumerated()), at, what: "key column")
    }

    /// Non-empty strings without duplicates; shared by `keys` and `carry`.
    /// `elements` are (index in the array, element) pairs, so paths stay right when some
    /// elements were set aside.
    private mutating func decodeColumnList(
        _ elements: [(offset: Int, element: SpecJSON)], _ at: SpecLocation, what: String
    ) -> [String]? {
        var columns: [String] = []
        var firstIndex: [String: Int] = [:]
        var ok = true
        for (index, element) in elements {
            let elementAt = at.element(index)
            guard case .string(let name) = element else {
                error(elementAt, "expected a column name (a string), found \(specFound(element))")
                ok = false
                continue
            }
            guard !name.isEmpty else {
                error(elementAt, "\(what) name must not be empty")
                ok = false
                continue
            }
            if let earlier = firstIndex[name] {
                error(elementAt, "\(specQuoted(name)) is already listed as \(at.element(earlier).path); remove the duplicate")
                ok = false
                continue
            }
            firstIndex[name] = index
            columns.append(name)
        }
        return ok ? columns : nil
    }

    private mutating func decodeTime(_ value: SpecJSON, _ at: SpecLocation) -> String? {
        guard case .string(let name) = value else {
            error(at, "expected the name of the event-time column (a string), found \(specFound(value))")
            return nil
        }
        guard !name.isEmpty else {
            error(at, "must not be empty; name the event-time column, or remove \"time\" to process events in arrival order")
            return nil
        }
        if context.keyColumns.contains(name) {
            // Output records hold the keys and the time column once each.
            error(at, "\(specQuoted(name)) is also a key column; key by other columns, or use another time column")
            return nil
        }
        return name
    }

    private mutating func decodeTimeUnit(_ value: SpecJSON, _ at: SpecLocation) -> TimeUnit? {
        let units = TimeUnit.allCases.map(\.rawValue)
        var unit: TimeUnit?
        switch value {
        case .string(let text):
            unit = TimeUnit(rawValue: text)
            if unit == nil {
                error(at, "unknown time unit \(specQuoted(text)); use \(specList(units, conjunction: "or"))")
            }
        default:
            error(at, "expected \(specList(units, conjunction: "or")), found \(specFound(value))")
        }
        if !context.hasTime {
            error(at, "a time unit needs event time; add \"time\": \"<column>\" to the job, or remove \"timeUnit\"")
            return nil
        }
        return unit
    }

    private mutating func decodeWatermark(_ value: SpecJSON, _ at: SpecLocation) -> EventDuration? {
        let duration = decodeDuration(value, at, examples: Self.watermarkExamples)
        if !context.hasTime {
            error(at, "a watermark needs event time; add \"time\": \"<column>\" to the job, or remove \"watermark\"")
            return nil
        }
        return duration
    }

    private mutating func decodeDuration(_ value: SpecJSON, _ at: SpecLocation, examples: String) -> EventDuration? {
        guard case .string(let text) = value else {
            error(at, "expected a duration string such as \(examples), found \(specFound(value))")
            return nil
        }
        guard let duration = EventDuration.parse(text) else {
            // Digits and known units that parse only when shortened: the number overflowed.
            if EventDuration.parse(text.replacingOccurrences(of: #"[0-9]+"#, with: "1", options: .regularExpression)) != nil {
                error(at, "duration \(specQuoted(text)) is too long: at most about 292,000 years (Int64 microseconds)")
                return nil
            }
            error(at, "invalid duration \(specQuoted(text)); write a whole number and a unit (us, ms, s, m, h, d, w), e.g. \(examples)")
            return nil
        }
        return duration
    }

    private mutating func decodeMaxParallelism(_ value: SpecJSON, _ at: SpecLocation) -> Int? {
        guard let n = integer(value), (1...Self.maxParallelismBound).contains(n) else {
            error(at, "expected an integer from 1 to \(Self.maxParallelismBound), found \(specFound(value))")
            return nil
        }
        return n
    }

    private mutating func decodeEmit(_ value: SpecJSON, _ at: SpecLocation) -> EmitMode? {
        switch value {
        case .string("event"):
            return .event
        case .string(let text):
            let hint = Suggest.closest(to: text, in: ["event"]) != nil ? "did you mean \"event\"? " : ""
            error(at, "unknown emission \(specQuoted(text)); \(hint)use \"event\", or an object for windows such as {\"tumbling\": \"1m\"}")
        case .object(let members) where members.count == 1 && Self.windowedEmitModes.contains(members[0].key):
            let (kind, spec) = members[0]
            let kindAt = at.member(kind, at: 0)
            if !context.hasTime {
                error(kindAt, "windows need event time; add \"time\": \"<column>\" to the job, or use \"emit\": \"event\"")
                return nil
            }
            switch kind {
            case "tumbling":
                guard let size = decodeWindowLength(spec, kindAt) else { return nil }
                return .tumbling(size: size)
            case "hopping":
                guard case .object(let parts) = spec else {
                    error(kindAt, "expected {\"size\": \"10m\", \"slide\": \"1m\"}, found \(specFound(spec))")
                    return nil
                }
                var size: EventDuration?
                var slide: EventDuration?
                var ok = true
                for (index, part) in parts.enumerated() {
                    let partAt = kindAt.member(part.key, at: index)
                    switch part.key {
                    case "size": size = decodeWindowLength(part.value, partAt); ok = ok && size != nil
                    case "slide": slide = decodeWindowLength(part.value, partAt); ok = ok && slide != nil
                    default:
                        unknownKey(part.key, partAt, allowed: ["size", "slide"])
                        ok = false
                    }
                }
                for (required, example) in [("size", "\"10m\""), ("slide", "\"1m\"")] where !parts.contains(where: { $0.key == required }) {
                    error(kindAt, "missing required key \"\(required)\" (e.g. \(example))")
                    ok = false
                }
                guard ok, let size, let slide else { return nil }
                guard slide.microseconds <= size.microseconds, size.microseconds % slide.microseconds == 0 else {
                    error(kindAt, "size \(size) must be a whole multiple of slide \(slide) (each event then falls in size/slide windows); e.g. size \"10m\" with slide \"1m\" or \"2m\"")
                    return nil
                }
                guard size.microseconds / slide.microseconds <= 1000 else {
                    error(kindAt, "size \(size) over slide \(slide) puts every event in \(size.microseconds / slide.microseconds) windows; keep it to 1000 at most with a longer slide")
                    return nil
                }
                return .hopping(size: size, slide: slide)
            default:
                guard case .object(let parts) = spec, parts.count == 1, parts[0].key == "gap" else {
                    if case .object(let parts) = spec {
                        for (index, part) in parts.enumerated() where part.key != "gap" {
                            unknownKey(part.key, kindAt.member(part.key, at: index), allowed: ["gap"])
                        }
                        if !parts.contains(where: { $0.key == "gap" }) { error(kindAt, "missing required key \"gap\" (e.g. \"30m\")") }
                    } else {
                        error(kindAt, "expected {\"gap\": \"30m\"}, found \(specFound(spec))")
                    }
                    return nil
                }
                guard let gap = decodeWindowLength(parts[0].value, kindAt.member("gap", at: 0)) else { return nil }
                return .session(gap: gap)
            }
        case .object(let members) where members.count == 1:
            // One window kind, misspelt.
            unknownKey(members[0].key, at.member(members[0].key, at: 0), allowed: Self.windowedEmitModes)
        case .object(let members) where members.count > 1:
            error(at, "give one window kind, found \(members.count): \(specList(members.map(\.key), conjunction: "and"))")
        default:
            error(at, "expected \"event\", {\"tumbling\": \"1m\"}, {\"hopping\": {\"size\": \"10m\", \"slide\": \"1m\"}} or {\"session\": {\"gap\": \"30m\"}}, found \(specFound(value))")
        }
        return nil
    }

    /// `ttl`: how long a key's state lives without an update, in event time.
    private mutating func decodeTTL(_ value: SpecJSON, _ at: SpecLocation) -> EventDuration? {
        guard let ttl = decodeDuration(value, at, examples: "\"30d\", \"12h\" or \"90m\"") else { return nil }
        guard ttl.microseconds > 0 else {
            error(at, "must be longer than 0s; remove \"ttl\" to keep every key's state")
            return nil
        }
        if !context.hasTime {
            error(at, "the TTL is measured in event time; add \"time\": \"<column>\" to the job, or remove \"ttl\"")
            return nil
        }
        if context.windowedEmit {
            error(at, "windowed jobs keep no state per key beyond their open windows; remove \"ttl\"")
            return nil
        }
        return ttl
    }

    /// A window's size or slide: a duration longer than 0.
    private mutating func decodeWindowLength(_ value: SpecJSON, _ at: SpecLocation) -> EventDuration? {
        guard let duration = decodeDuration(value, at, examples: Self.windowExamples) else { return nil }
        guard duration.microseconds > 0 else {
            error(at, "must be longer than 0s")
            return nil
        }
        return duration
    }

    private mutating func decodeCarry(_ value: SpecJSON, _ at: SpecLocation) -> Carry? {
        if context.windowedEmit {
            error(at, "carried columns belong to one event; a window's record holds its keys, window_start, window_end and the features: remove \"carry\"")
            return nil
        }
        guard case .array(let elements) = value else {
            error(at, "expected an array of column names or [\"*\"] for every column, found \(specFound(value))")
            return nil
        }
        if elements == [.string("*")] { return .all }
        if elements.isEmpty { return Carry.none }
        var ok = true
        // "*" mixed with names: ambiguous (all, or just these?), so it is refused.
        for (index, element) in elements.enumerated() where element == .string("*") {
            error(at.element(index), "\"*\" carries every column and cannot be mixed with column names; use [\"*\"] alone or list the columns")
            ok = false
        }
        let named = elements.enumerated().filter { $0.element != .string("*") }
        guard let listed = decodeColumnList(named, at, what: "carried column") else { return nil }
        var columns: [String] = []
        for name in listed {
            let elementAt = at.element(named[columns.count].offset)
            // Output columns must be unique: keys and time are in event output already,
            // and a feature writes its own column of that name.
            if context.keyColumns.contains(name) {
                error(elementAt, "\(specQuoted(name)) is a key column, which is already in the output; remove it from carry")
                ok = false
            } else if name == context.timeColumn {
                error(elementAt, "\(specQuoted(name)) is the time column, which is already in the output; remove it from carry")
                ok = false
            } else if let feature = context.featureIndex[name] {
                error(elementAt, "\(specQuoted(name)) is also the name of a feature (dict[\(feature)]); rename the feature or stop carrying the column")
                ok = false
            }
            columns.append(name)
        }
        return ok ? .columns(columns) : nil
    }

    // MARK: Features

    private mutating func decodeDict(_ value: SpecJSON, _ at: SpecLocation) -> [FeatureSpec]? {
        guard case .array(let entries) = value else {
            error(at, "expected an array of feature objects such as {\"name\": \"txn_count\", \"operator\": \"count\"}, found \(specFound(value))")
            return nil
        }
        guard !entries.isEmpty else {
            error(at, "needs at least one feature, e.g. {\"name\": \"txn_count\", \"operator\": \"count\"}")
            return nil
        }
        var features: [FeatureSpec] = []
        var ok = true
        for (index, entry) in entries.enumerated() {
            if let feature = decodeFeature(entry, at.element(index), index: index) {
                features.append(feature)
            } else {
                ok = false
            }
        }
        return ok ? features : nil
    }

    private mutating func decodeFeature(_ value: SpecJSON, _ at: SpecLocation, index: Int) -> FeatureSpec? {
        guard case .object(let members) = value else {
            error(at, "expected a feature object such as {\"name\": \"txn_count\", \"operator\": \"count\"}, found \(specFound(value))")
            return nil
        }
        var name: String?
        var op: FeatureOperator?
        var type: StateType?
        var field: String?
        var window: EventDuration?
        var limit: Int?
        var from: String?
        var column: String?
        var key: String?
        var lookupKeysAt: [(String, SpecLocation)] = []
        var windowAt: SpecLocation?
        var ok = true
        // Read the operator first: the type, field and limit checks depend on it.
        if let opIndex = members.firstIndex(where: { $0.key == "operator" }) {
            op = decodeOperator(members[opIndex].value, at.member("operator", at: opIndex))
            ok = ok && op != nil
        } else {
            error(at, "missing required key \"operator\" (one of \(specList(FeatureOperator.allCases.map(\.rawValue), conjunction: "or")))")
            ok = false
        }
        if !members.contains(where: { $0.key == "name" }) {
            error(at, "missing required key \"name\" (the output column)")
            ok = false
        }

        var fieldPresent = false
        var limitAt: SpecLocation?
        for (memberIndex, member) in members.enumerated() {
            let memberAt = at.member(member.key, at: memberIndex)
            switch member.key {
            case "operator": break
            case "name":
                name = decodeFeatureName(member.value, memberAt, index: index)
                ok = ok && name != nil
            case "type":
                type = decodeType(member.value, memberAt)
                ok = ok && type != nil
            case "field":
                fieldPresent = true
                field = decodeField(member.value, memberAt)
                ok = ok && field != nil
            case "window":
                windowAt = memberAt
                // A lookup's window is refused below, whatever its value.
                guard op != .lookup else { break }
                if context.windowedEmit {
                    error(memberAt, "with windowed \"emit\" each window aggregates its own events; a lookback \"window\" does not apply: remove it")
                    ok = false
                    break
                }
                window = decodeWindow(member.value, memberAt)
                ok = ok && window != nil
            case "from", "column", "key":
                lookupKeysAt.append((member.key, memberAt))
                let text = decodeLookupName(member.key, member.value, memberAt)
                ok = ok && text != nil
                switch member.key {
                case "from": from = text
                case "column": column = text
                default: key = text
                }
            case "limit":
                limitAt = memberAt
                limit = decodeLimit(member.value, memberAt)
                ok = ok && limit != nil
            default:
                unknownKey(member.key, memberAt, allowed: Self.featureKeys)
                ok = false
            }
        }

        guard let op else { return nil }
        // `count` without a field counts events; every other operator reads a column.
        if op != .count && !fieldPresent {
            error(at, "operator \(specQuoted(op.rawValue)) needs a \"field\" (the input column to read)")
            ok = false
        }
        if let limitAt, op != .collect {
            error(limitAt, "\"limit\" only applies to operator \"collect\"; remove it")
            ok = false
        }
        if op == .lookup, context.windowedEmit {
            error(at, "a lookup has no value over a window of events; with windowed \"emit\", remove it or use \"emit\": \"event\"")
            ok = false
        }
        if op == .lookup {
            for (required, example) in [("from", "\"merchants\" (a --broadcast name)"), ("column", "\"tier\" (the column to output)")]
            where !members.contains(where: { $0.key == required }) {
                error(at, "operator \"lookup\" needs \"\(required)\", e.g. \(example)")
                ok = false
            }
            if let from, !from.isEmpty, !from.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) {
                error(lookupKeysAt.first { $0.0 == "from" }!.1, "broadcast name \(specQuoted(from)) may hold only letters, digits, '_', '.' and '-'")
                ok = false
            }
            if let windowAt {
                error(windowAt, "a lookup reads the broadcast input as it is now; \"window\" does not apply: remove it")
                ok = false
            }
        } else {
            for (key, keyAt) in lookupKeysAt {
                error(keyAt, "\"\(key)\" only applies to operator \"lookup\" (a broadcast input); remove it")
                ok = false
            }
        }
        if let type, !Self.operators(for: type).contains(op) {
            let fitting = StateType.allCases.filter { $0 != .folding && Self.operators(for: $0).contains(op) }
            error(at, "operator \(specQuoted(op.rawValue)) needs type \(specList(fitting.map(\.rawValue), conjunction: "or")), not \(specQuoted(type.rawValue))")
            ok = false
        }
        guard ok, let name else { return nil }
        let lookup = op == .lookup ? from.flatMap { from in column.map { BroadcastLookup(from: from, column: $0, key: key) } } : nil
        return FeatureSpec(
            name: name, type: type ?? Self.inferredType(op), op: op, field: field, window: window, limit: limit, lookup: lookup)
    }

    /// Which operators each state type can hold (DESIGN section 2's table). `folding` is the
    /// deprecated alias of `aggregating` and accepts the same.
    static func operators(for type: StateType) -> Set<FeatureOperator> {
        switch type {
        case .value: [.first, .last]
        case .reducing: [.count, .sum, .min, .max]
        case .aggregating, .folding: [.count, .sum, .min, .max, .avg, .stddev]
        case .map: [.countDistinct, .histogram]
        case .list: [.collect]
        case .broadcast: [.lookup]
        }
    }

    /// The type used when `type` is omitted: the simplest state that holds the operator
    /// (reducing over aggregating when both fit, since a reduce keeps one value).
    static func inferredType(_ op: FeatureOperator) -> StateType {
        switch op {
        case .first, .last: .value
        case .count, .sum, .min, .max: .reducing
        case .avg, .stddev: .aggregating
        case .countDistinct, .histogram: .map
        case .collect: .list
        case .lookup: .broadcast
        }
    }

    private mutating func decodeFeatureName(_ value: SpecJSON, _ at: SpecLocation, index: Int) -> String? {
        guard case .string(let name) = value else {
            error(at, "expected the output column name (a string), found \(specFound(value))")
            return nil
        }
        guard !name.isEmpty else {
            error(at, "must not be empty; name the output column")
            return nil
        }
        if let first = context.featureIndex[name], first != index {
            error(at, "\(specQuoted(name)) is already used by dict[\(first)]; feature names must be unique")
            return nil
        }
        if context.keyColumns.contains(name) {
            error(at, "\(specQuoted(name)) is a key column, which is already in the output; choose another name")
            return nil
        }
        if name == context.timeColumn, !context.windowedEmit {
            error(at, "\(specQuoted(name)) is the time column, which is already in the output; choose another name")
            return nil
        }
        if context.windowedEmit, ["window_start", "window_end"].contains(name) {
            error(at, "\(specQuoted(name)) is a column of every window's record already; choose another name")
            return nil
        }
        return name
    }

    private mutating func decodeOperator(_ value: SpecJSON, _ at: SpecLocation) -> FeatureOperator? {
        let names = FeatureOperator.allCases.map(\.rawValue)
        guard case .string(let text) = value else {
            error(at, "expected one of \(specList(names, conjunction: "or")), found \(specFound(value))")
            return nil
        }
        if let op = FeatureOperator(rawValue: text) { return op }
        if let suggestion = Suggest.closest(to: text, in: names) {
            error(at, "unknown operator \(specQuoted(text)); did you mean \(specQuoted(suggestion))?")
        } else {
            error(at, "unknown operator \(specQuoted(text)); use one of \(specList(names, conjunction: "or"))")
        }
        return nil
    }

    private mutating func decodeType(_ value: SpecJSON, _ at: SpecLocation) -> StateType? {
        // `folding` is deprecated, so it is neither listed nor suggested.
        let names = StateType.allCases.filter { $0 != .folding }.map(\.rawValue)
        guard case .string(let text) = value else {
            error(at, "expected one of \(specList(names, conjunction: "or")), found \(specFound(value))")
            return nil
        }
        guard let type = StateType(rawValue: text) else {
            if let suggestion = Suggest.closest(to: text, in: names) {
                error(at, "unknown type \(specQuoted(text)); did you mean \(specQuoted(suggestion))?")
            } else {
                error(at, "unknown type \(specQuoted(text)); use one of \(specList(names, conjunction: "or")), or omit it to infer from the operator")
            }
            return nil
        }
        if type == .folding {
            warning(at, "\"folding\" is deprecated (as Flink deprecated FoldingState); use \"aggregating\"")
        }
        return type
    }

    private mutating func decodeField(_ value: SpecJSON, _ at: SpecLocation) -> String? {
        decodeName(value, at, expected: "the name of an input column (a string)", ifEmpty: "name the input column to read")
    }

    /// `from` (a broadcast input's name), `column` or `key` (columns of the broadcast input).
    private mutating func decodeLookupName(_ key: String, _ value: SpecJSON, _ at: SpecLocation) -> String? {
        let what = key == "from"
            ? "the name of a broadcast input (a string such as \"merchants\", as --broadcast merchants=FILE gives it)"
            : "a column of the broadcast input (a string such as \"tier\")"
        return decodeName(value, at, expected: what, ifEmpty: "expected \(what)")
    }

    /// A non-empty string; `expected` and `ifEmpty` say what should be there.
    private mutating func decodeName(_ value: SpecJSON, _ at: SpecLocation, expected: String, ifEmpty: String) -> String? {
        guard case .string(let name) = value else {
            error(at, "expected \(expected), found \(specFound(value))")
            return nil
        }
        guard !name.isEmpty else {
            error(at, "must not be empty; \(ifEmpty)")
            return nil
        }
        return name
    }

    private mutating func decodeWindow(_ value: SpecJSON, _ at: SpecLocation) -> EventDuration? {
        let duration = decodeDuration(value, at, examples: Self.windowExamples)
        if let duration, duration.microseconds == 0 {
            error(at, "a window must be longer than 0s; remove \"window\" to aggregate over all of the key's events")
            return nil
        }
        // Time windows are refused without event time: arrival order has no time to look back over.
        if !context.hasTime {
            error(at, "a lookback window needs event time; add \"time\": \"<column>\" to the job, or remove the window")
            return nil
        }
        return duration
    }

    private mutating func decodeLimit(_ value: SpecJSON, _ at: SpecLocation) -> Int? {
        guard let n = integer(value), n >= 1 else {
            error(at, "expected an integer of at least 1 (how many of the newest values to keep), found \(specFound(value))")
            return nil
        }
        return n
    }

    // MARK: Helpers

    /// The value as an Int when it is an integer literal that a Double holds exactly
    /// (|n| <= 2^53); larger literals were already rounded by parsing and are refused.
    private func integer(_ value: SpecJSON) -> Int? {
        guard case .number(let d, isInteger: true) = value, abs(d) <= 9_007_199_254_740_992 else { return nil }
        return Int(d)
    }
}

/// How a found value is named in `found ...`: its JSON type, or the value itself for
/// numbers and literals, which says more (`found 0`, `found 1.5`, `found null`).
func specFound(_ value: SpecJSON) -> String {
    switch value {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .number(let d, let isInteger):
        if isInteger, abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    case .string: return "a string"
    case .array: return "an array"
    case .object: return "an object"
    }
}

/// `"a", "b" or "c"`: quoted alternatives for messages.
func specList(_ items: [String], conjunction: String) -> String {
    let quotedItems = items.map(specQuoted)
    guard quotedItems.count > 1 else { return quotedItems.first ?? "" }
    return quotedItems.dropLast().joined(separator: ", ") + " \(conjunction) " + quotedItems.last!
}
