/// The JSON Schema (draft 2020-12) of a job spec, for `eddy schema` and editors.
///
/// Built from the decoder's own tables (its member lists, the enums' cases, which operators
/// each state type holds, the key-group bound, the emit modes), so the two cannot drift
/// apart; `JobSchemaTests` holds the rest (the duration pattern against `EventDuration.parse`,
/// every example job, and specs the decoder refuses). It says what a single document can
/// say: members, types, enums, patterns, which operator fits which type, which members go
/// together. Rules that compare values across the document are `eddy validate`'s alone and
/// are listed in the schema's `$comment`.
public enum JobSchema {
    /// The schema as a JSON value, members in a fixed order.
    public static var document: SpecJSON {
        object([
            ("$schema", .string("https://json-schema.org/draft/2020-12/schema")),
            ("$id", .string("urn:eddy:job-spec")),
            ("title", .string("eddy job spec")),
            ("description", .string("A keyed stateful stream job for eddy run: the key columns, the event-time column, and the per-key features (dict).")),
            ("$comment", .string(
                "eddy validate checks more than a schema can: feature names unique and not a key, time or window_start/window_end column; "
                    + "time not a key column; carried columns not a key, the time column or a feature; hopping size a whole multiple of slide "
                    + "and at most 1000 slides; durations that fit 64-bit microseconds; integers written without a fraction or exponent.")),
            ("type", .string("object")),
            ("required", strings(["code", "keys", "dict"])),
            ("properties", object(JobSpecDecoder.rootKeys.map { ($0, rootMember($0)) })),
            ("additionalProperties", .bool(false)),
            // A time unit, watermark or TTL is about event time.
            ("dependentRequired", object(["timeUnit", "watermark", "ttl"].map { ($0, strings(["time"])) })),
            ("allOf", .array([
                // Windows need event time, and then a record is per window, not per event.
                ifThen(
                    object([("required", strings(["emit"])), ("properties", object([("emit", object([("type", .string("object"))]))]))]),
                    object([
                        ("required", strings(["time"])),
                        ("not", anyRequired(["carry", "ttl"])),
                        ("properties", object([("dict", object([("items", ref("windowedFeature"))]))])),
                    ])),
                // A lookback window needs event time.
                ifThen(
                    object([("required", strings(["dict"])), ("properties", object([("dict", object([("contains", object([("required", strings(["window"]))]))]))]))]),
                    object([("required", strings(["time"]))])),
            ])),
            ("$defs", object([
                ("duration", object([
                    ("description", .string("One or more <whole number><unit> parts, summed: 90s, 1h30m, 500ms, 0s. Units: " + durationUnits.joined(separator: ", ") + ".")),
                    ("type", .string("string")),
                    ("pattern", .string(durationPattern)),
                ])),
                ("positiveDuration", object([
                    ("description", .string("A duration longer than 0s.")),
                    ("type", .string("string")),
                    ("pattern", .string(positiveDurationPattern)),
                ])),
                ("columnName", object([("type", .string("string")), ("minLength", .number(1, isInteger: true))])),
                ("feature", feature),
                ("windowedFeature", object([
                    ("description", .string("With windowed emit each window aggregates its own events: no lookback window, no lookup, no window_start/window_end name.")),
                    ("not", object([("anyOf", .array([
                        object([("required", strings(["window"]))]),
                        object([("required", strings(["operator"])), ("properties", object([("operator", object([("const", .string(FeatureOperator.lookup.rawValue))]))]))]),
                        object([("required", strings(["name"])), ("properties", object([("name", object([("enum", strings(["window_start", "window_end"]))]))]))]),
                    ]))])),
                ])),
            ])),
        ])
    }

    /// The schema as indented JSON text, as `eddy schema` prints it.
    public static var text: String { pretty(document, indent: "") }

    /// Duration units, as `EventDuration.parse` reads them.
    static let durationUnits = ["us", "ms", "s", "m", "h", "d", "w"]
    /// Whole parts only: a unit is a run of letters the parser must know, so `1ms` is never
    /// `1m` and an `s` (the part after a unit must start with a digit).
    static var durationPattern: String { "^" + durationParts + "$" }
    /// A duration with a nonzero digit somewhere: some part is longer than 0.
    static var positiveDurationPattern: String { "^(?=[0-9a-z]*[1-9])" + durationParts + "$" }
    private static var durationParts: String { "([0-9]+(" + durationUnits.joined(separator: "|") + "))+" }
    /// `code`: letters, digits, `_`, `.` and `-`, and not `.` or `..` (they name directories).
    static let codePattern = "^[A-Za-z0-9_.-]+$"

    private static func rootMember(_ key: String) -> SpecJSON {
        switch key {
        case "code":
            return object([
                ("description", .string("The job's identifier; it names the job's state and checkpoint directories.")),
                ("type", .string("string")), ("pattern", .string(codePattern)), ("not", object([("enum", strings([".", ".."]))])),
            ])
        case "keys":
            return object([
                ("description", .string("Columns that key the stream, in order.")),
                ("type", .string("array")), ("minItems", .number(1, isInteger: true)), ("uniqueItems", .bool(true)), ("items", ref("columnName")),
            ])
        case "time":
            return object([("description", .string("The event-time column (epoch numbers in timeUnit, or RFC 3339); omit for arrival order.")), ("$ref", .string("#/$defs/columnName"))])
        case "timeUnit":
            return object([("description", .string("The unit of integer epoch times.")), ("enum", strings(TimeUnit.allCases.map(\.rawValue)))])
        case "watermark":
            return object([("description", .string("Bounded out-of-orderness: watermark = max event time - watermark - 1 tick.")), ("$ref", .string("#/$defs/duration"))])
        case "maxParallelism":
            return object([
                ("description", .string("Key groups, the unit in which state is stored and redistributed.")),
                ("type", .string("integer")), ("minimum", .number(1, isInteger: true)),
                ("maximum", .number(Double(JobSpecDecoder.maxParallelismBound), isInteger: true)),
            ])
        case "emit":
            return object([
                ("description", .string("\"event\": one record per event; or one record per key per window.")),
                ("oneOf", .array([object([("const", .string("event"))])] + JobSpecDecoder.windowedEmitModes.map(emitMode))),
            ])
        case "carry":
            return object([
                ("description", .string("Input columns copied to each event's record; [\"*\"] for every column.")),
                ("oneOf", .array([
                    object([("const", strings(["*"]))]),
                    object([
                        ("type", .string("array")), ("uniqueItems", .bool(true)),
                        ("items", object([("$ref", .string("#/$defs/columnName")), ("not", object([("const", .string("*"))]))])),
                    ]),
                ])),
            ])
        case "ttl":
            return object([("description", .string("Event-time state TTL: a key not updated for this long starts over.")), ("$ref", .string("#/$defs/positiveDuration"))])
        case "dict":
            return object([
                ("description", .string("The features, in output order.")),
                ("type", .string("array")), ("minItems", .number(1, isInteger: true)), ("items", ref("feature")),
            ])
        default:
            preconditionFailure("JobSchema has no schema for the decoder's root key \(key)")
        }
    }

    private static func emitMode(_ mode: String) -> SpecJSON {
        let body: SpecJSON
        switch mode {
        case "tumbling": body = ref("positiveDuration")
        case "hopping": body = closedObject(["size", "slide"], required: ["size", "slide"]) { _ in ref("positiveDuration") }
        case "session": body = closedObject(["gap"], required: ["gap"]) { _ in ref("positiveDuration") }
        default: preconditionFailure("JobSchema has no schema for the decoder's emit mode \(mode)")
        }
        return closedObject([mode], required: [mode]) { _ in body }
    }

    private static var feature: SpecJSON {
        let types = StateType.allCases.filter { $0 != .folding }.map(\.rawValue)
        var rules: [SpecJSON] = [
            // Only count may go without a field (it then counts events).
            ifThen(
                object([("properties", object([("operator", object([("not", object([("const", .string(FeatureOperator.count.rawValue))]))]))]))]),
                object([("required", strings(["field"]))])),
            ifThen(object([("required", strings(["limit"]))]), operatorIs([.collect])),
            ifThenElse(
                operatorIs([.lookup]),
                object([("required", strings(["from", "column"])), ("not", object([("required", strings(["window"]))]))]),
                object([("not", anyRequired(["from", "column", "key"]))])),
        ]
        // Which operators each state type holds.
        for type in StateType.allCases {
            let operators = FeatureOperator.allCases.filter { JobSpecDecoder.operators(for: type).contains($0) }
            rules.append(ifThen(
                object([("required", strings(["type"])), ("properties", object([("type", object([("const", .string(type.rawValue))]))]))]),
                operatorIs(operators)))
        }
        return object([
            ("type", .string("object")),
            ("required", strings(["name", "operator"])),
            ("properties", object(JobSpecDecoder.featureKeys.map { ($0, featureMember($0, types: types)) })),
            ("additionalProperties", .bool(false)),
            ("allOf", .array(rules)),
        ])
    }

    private static func featureMember(_ key: String, types: [String]) -> SpecJSON {
        switch key {
        case "name":
            return object([("description", .string("The output column.")), ("$ref", .string("#/$defs/columnName"))])
        case "type":
            return object([
                ("description", .string("The state primitive; inferred from the operator when omitted.")),
                ("anyOf", .array([
                    object([("enum", strings(types))]),
                    object([("const", .string(StateType.folding.rawValue)), ("deprecated", .bool(true))]),
                ])),
            ])
        case "operator":
            return object([("enum", strings(FeatureOperator.allCases.map(\.rawValue)))])
        case "field":
            return object([("description", .string("The input column; count without it counts events.")), ("$ref", .string("#/$defs/columnName"))])
        case "window":
            return object([("description", .string("Lookback: aggregate the events of the last window of event time.")), ("$ref", .string("#/$defs/positiveDuration"))])
        case "limit":
            return object([
                ("description", .string("For collect: keep the newest N values.")),
                ("type", .string("integer")), ("minimum", .number(1, isInteger: true)),
            ])
        case "from":
            return object([
                ("description", .string("For lookup: the broadcast input (--broadcast NAME=FILE).")),
                ("type", .string("string")), ("pattern", .string(codePattern)),
            ])
        case "column":
            return object([("description", .string("For lookup: the broadcast input's column to output.")), ("$ref", .string("#/$defs/columnName"))])
        case "key":
            return object([("description", .string("For lookup: the broadcast input's column matched against field (default: named like field).")), ("$ref", .string("#/$defs/columnName"))])
        default:
            preconditionFailure("JobSchema has no schema for the decoder's feature key \(key)")
        }
    }

    // MARK: Building blocks

    private static func object(_ members: [(String, SpecJSON)]) -> SpecJSON {
        .object(members.map { (key: $0.0, value: $0.1) })
    }

    private static func strings(_ values: [String]) -> SpecJSON { .array(values.map(SpecJSON.string)) }

    private static func ref(_ definition: String) -> SpecJSON { object([("$ref", .string("#/$defs/" + definition))]) }

    private static func ifThen(_ condition: SpecJSON, _ then: SpecJSON) -> SpecJSON { object([("if", condition), ("then", then)]) }

    private static func ifThenElse(_ condition: SpecJSON, _ then: SpecJSON, _ otherwise: SpecJSON) -> SpecJSON {
        object([("if", condition), ("then", then), ("else", otherwise)])
    }

    private static func anyRequired(_ keys: [String]) -> SpecJSON {
        object([("anyOf", .array(keys.map { object([("required", strings([$0]))]) }))])
    }

    private static func operatorIs(_ operators: [FeatureOperator]) -> SpecJSON {
        let allowed = operators.count == 1 ? ("const", SpecJSON.string(operators[0].rawValue)) : ("enum", strings(operators.map(\.rawValue)))
        return object([("properties", object([("operator", object([allowed]))]))])
    }

    private static func closedObject(_ keys: [String], required: [String], _ schema: (String) -> SpecJSON) -> SpecJSON {
        object([
            ("type", .string("object")), ("required", strings(required)),
            ("properties", object(keys.map { ($0, schema($0)) })), ("additionalProperties", .bool(false)),
        ])
    }

    private static func pretty(_ value: SpecJSON, indent: String) -> String {
        let inner = indent + "  "
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number, let isInteger): return isInteger ? String(Int64(number)) : String(number)
        case .string(let text): return specQuoted(text)
        case .array(let elements):
            // Short lists of scalars (enums, required) on one line, as people write them.
            if elements.allSatisfy({ if case .string = $0 { true } else { false } }) {
                return "[" + elements.map { pretty($0, indent: inner) }.joined(separator: ", ") + "]"
            }
            return "[\n" + elements.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            return "{\n" + members.map { inner + specQuoted($0.key) + ": " + pretty($0.value, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "}"
        }
    }
}
