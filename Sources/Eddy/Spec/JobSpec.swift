/// A job spec: what a user writes in `jobs/*.json` (DESIGN section 2), decoded and validated.
public struct JobSpec: Sendable, Equatable {
    /// The job's identifier, `[A-Za-z0-9_.-]+`; it names the job's state and checkpoints.
    public var code: String
    /// Columns that key the stream, in order (composite keys allowed).
    public var keys: [String]
    /// The event-time column, or nil for arrival order.
    public var time: String?
    /// The unit of integer epoch times in the `time` column.
    public var timeUnit: TimeUnit
    /// Bounded out-of-orderness: watermark = max event time - watermark - 1 tick.
    public var watermark: EventDuration
    /// Number of key groups.
    public var maxParallelism: Int
    /// The features, in output order.
    public var features: [FeatureSpec]
    public var emit: EmitMode
    /// Input columns copied to event-mode output.
    public var carry: Carry
    /// Event-time state TTL: a key not updated for this long, measured against the
    /// watermark, is forgotten (and removed from state).
    public var ttl: EventDuration?

    public init(
        code: String, keys: [String], time: String? = nil, timeUnit: TimeUnit = .milliseconds,
        watermark: EventDuration = EventDuration(microseconds: 0, text: "0s"),
        maxParallelism: Int = 128, features: [FeatureSpec], emit: EmitMode = .event,
        carry: Carry = .none, ttl: EventDuration? = nil
    ) {
        self.ttl = ttl
        self.code = code
        self.keys = keys
        self.time = time
        self.timeUnit = timeUnit
        self.watermark = watermark
        self.maxParallelism = maxParallelism
        self.features = features
        self.emit = emit
        self.carry = carry
    }
}

public enum TimeUnit: String, Sendable, CaseIterable {
    case seconds = "s"
    case milliseconds = "ms"
    case microseconds = "us"

    /// Microseconds in one unit.
    public var microseconds: Int64 {
        switch self {
        case .seconds: 1_000_000
        case .milliseconds: 1_000
        case .microseconds: 1
        }
    }
}

public enum EmitMode: Sendable, Equatable {
    /// One output record per input event (Flink SQL's RANGE OVER aggregation).
    case event
    /// One record per key per window `[start, start + size)`, windows aligned to the epoch
    /// (Flink SQL's TUMBLE).
    case tumbling(size: EventDuration)
    /// One record per key per window of `size` starting every `slide` (Flink SQL's HOP);
    /// `size` is a whole multiple of `slide`.
    case hopping(size: EventDuration, slide: EventDuration)
    /// One record per key per session: events at most `gap` apart (inclusive) belong to one
    /// session (Flink SQL's SESSION).
    case session(gap: EventDuration)

    /// Whether records are per window rather than per event.
    public var isWindowed: Bool { self != .event }

    /// The session gap in microseconds, or nil for other modes.
    public var sessionGap: Int64? {
        if case .session(let gap) = self { return gap.microseconds }
        return nil
    }

    /// The mode and its lengths as numbers, for telling a checkpoint's mode from a run's.
    public var signature: [Int64] {
        switch self {
        case .event: []
        case .tumbling(let size): [1, size.microseconds]
        case .hopping(let size, let slide): [2, size.microseconds, slide.microseconds]
        case .session(let gap): [3, gap.microseconds]
        }
    }

    /// The window size as the spec wrote it ("" for event mode).
    public var sizeText: String {
        switch self {
        case .event: ""
        case .tumbling(let size), .hopping(let size, _): size.text
        case .session(let gap): gap.text
        }
    }

    /// The slide as the spec wrote it (the size for tumbling windows, "" for event mode).
    public var slideText: String {
        switch self {
        case .event: ""
        case .tumbling(let size): size.text
        case .hopping(_, let slide): slide.text
        case .session: ""
        }
    }

    /// The windows' size and slide in microseconds, or nil for event mode.
    public var windows: (size: Int64, slide: Int64)? {
        switch self {
        case .event: nil
        case .tumbling(let size): (size.microseconds, size.microseconds)
        case .hopping(let size, let slide): (size.microseconds, slide.microseconds)
        case .session: nil
        }
    }
}

public enum Carry: Sendable, Equatable {
    case none
    /// `["*"]`: every input column.
    case all
    case columns([String])
}

/// The managed-state primitive that holds a feature (Flink's state types).
public enum StateType: String, Sendable, CaseIterable {
    case value, list, map, reducing, aggregating
    /// Broadcast state: a side input every worker sees (`--broadcast NAME=FILE`), read by
    /// `lookup`; not keyed.
    case broadcast
    /// Deprecated alias of `aggregating`, accepted with a warning, as Flink deprecated FoldingState.
    case folding
}

public enum FeatureOperator: String, Sendable, CaseIterable {
    case first, last
    case count, sum, min, max, avg, stddev
    case countDistinct = "count_distinct"
    case histogram
    case collect
    /// A column of the broadcast input's row whose key column equals the event's field.
    case lookup
}

/// One entry of the spec's `dict`.
public struct FeatureSpec: Sendable, Equatable {
    /// The output column, unique in the job.
    public var name: String
    /// As written, or inferred from the operator when omitted.
    public var type: StateType
    public var op: FeatureOperator
    /// The input column; nil only for `count`, which then counts events.
    public var field: String?
    /// Lookback: the feature aggregates events with time in `[t - window, t]`.
    public var window: EventDuration?
    /// For `collect`: keep the newest N values.
    public var limit: Int?
    /// For `lookup`: the broadcast input (`--broadcast NAME=FILE`), the column of its rows
    /// to return, and the column matched against `field` (nil: the one named like `field`).
    public var lookup: BroadcastLookup?

    public init(
        name: String, type: StateType, op: FeatureOperator, field: String? = nil,
        window: EventDuration? = nil, limit: Int? = nil, lookup: BroadcastLookup? = nil
    ) {
        self.lookup = lookup
        self.name = name
        self.type = type
        self.op = op
        self.field = field
        self.window = window
        self.limit = limit
    }
}

/// Where a `lookup` feature looks: `{"from": "merchants", "column": "tier", "key": "id"}`.
public struct BroadcastLookup: Sendable, Equatable, Hashable {
    /// The broadcast input's name, as `--broadcast NAME=FILE` gives it.
    public var from: String
    /// The column of the matching row whose value the feature outputs.
    public var column: String
    /// The broadcast input's column matched against the event's field; nil: the field's name.
    public var key: String?

    public init(from: String, column: String, key: String? = nil) {
        self.from = from
        self.column = column
        self.key = key
    }
}

/// One finding of spec validation: where (a JSON path like `dict[2].operator`) and what.
public struct SpecDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: Sendable { case error, warning }
    public var severity: Severity
    /// JSON path of the offending value, `$` for the whole document.
    public var path: String
    /// What is wrong and what would fix it.
    public var message: String

    public init(_ severity: Severity, path: String, _ message: String) {
        self.severity = severity
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Thrown when a spec has errors; carries every error found, not just the first.
public struct SpecErrors: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [SpecDiagnostic]
    public init(_ diagnostics: [SpecDiagnostic]) { self.diagnostics = diagnostics }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
