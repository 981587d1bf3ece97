/// The differences between the job spec a checkpoint stores and the one a run (or
/// `eddy plan --against`) brings, as far as resuming the checkpoint is concerned.
///
/// `run --resume` refuses a checkpoint whenever `blocking` is not empty, and names these
/// differences; `eddy plan JOB --against CHECKPOINT` prints them all. What blocks: the code,
/// keys, time column and unit, emit mode (its lengths, not their spelling), carried columns,
/// and a feature of one name whose members changed; the state a checkpoint holds is laid out
/// by those. What a resume takes (spec evolution, DESIGN section 4): a feature added (it
/// starts empty), one dropped when `allowDrop` (`--allow-drop`: its state is left behind),
/// and the features' order.
public struct SpecDiff: Sendable, Equatable {
    /// What differs, in spec order: the job's members first, then the features.
    public private(set) var differences: [SpecDifference] = []
    private let allowDrop: Bool

    /// The differences `run --resume` refuses.
    public var blocking: [SpecDifference] { differences.filter(\.blocksResume) }

    /// Compares the spec a checkpoint stores (`saved`) with the one a run brings (`current`).
    public init(saved: JobSpec, current: JobSpec, allowDrop: Bool = false) {
        self.allowDrop = allowDrop
        compare("code", saved.code, current.code, blocks: true)
        compare("keys", saved.keys.joined(separator: ", "), current.keys.joined(separator: ", "), blocks: true)
        compare("time", saved.time ?? "none (arrival order)", current.time ?? "none (arrival order)", blocks: true)
        compare("timeUnit", saved.timeUnit.rawValue, current.timeUnit.rawValue, blocks: true)
        // Lengths decide which window an event falls in; "60m" and "1h" are one emit mode.
        if saved.emit.signature != current.emit.signature {
            add("emit", saved.emit.specText, current.emit.specText, blocks: true)
        }
        compare("carry", saved.carry.specText, current.carry.specText, blocks: true)
        // Read by the run from the spec it is given, never from state: a resume accepts a
        // change (the watermark or TTL then apply from the resume on).
        compare("watermark", saved.watermark.text, current.watermark.text, blocks: false)
        compare("ttl", saved.ttl?.text ?? "none", current.ttl?.text ?? "none", blocks: false)
        compareFeatures(saved.features, current.features)
    }

    private mutating func compare(_ subject: String, _ saved: String, _ current: String, blocks: Bool) {
        if saved != current { add(subject, saved, current, blocks: blocks) }
    }

    private mutating func add(_ subject: String, _ saved: String, _ current: String, blocks: Bool) {
        differences.append(SpecDifference(subject: subject, saved: saved, current: current, blocksResume: blocks))
    }

    /// Features are matched by name (unique in a valid spec): removed ones, then changed and
    /// added ones in the current spec's order, then a change of order alone, which moves every
    /// feature's place in the state row.
    private mutating func compareFeatures(_ saved: [FeatureSpec], _ current: [FeatureSpec]) {
        let currentNames = Set(current.map(\.name))
        let savedByName = Dictionary(saved.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for feature in saved where !currentNames.contains(feature.name) {
            add("feature \"\(feature.name)\"", feature.formula, allowDrop ? "dropped (--allow-drop)" : "removed (a resume drops its state only with --allow-drop)", blocks: !allowDrop)
        }
        for feature in current {
            guard let before = savedByName[feature.name] else {
                add("feature \"\(feature.name)\"", "absent", "added: \(feature.formula) (starts empty)", blocks: false)
                continue
            }
            let subject = "feature \"\(feature.name)\""
            compare(subject + " type", before.type.rawValue, feature.type.rawValue, blocks: true)
            compare(subject + " operator", before.op.rawValue, feature.op.rawValue, blocks: true)
            compare(subject + " field", before.field ?? "none (counts events)", feature.field ?? "none (counts events)", blocks: true)
            // Compared as written, as the resume compares them: a window of "60m" where the
            // checkpoint has "1h" is refused too.
            compare(subject + " window", before.window?.text ?? "none (all events)", feature.window?.text ?? "none (all events)", blocks: true)
            compare(subject + " limit", before.limit.map(String.init) ?? "none", feature.limit.map(String.init) ?? "none", blocks: true)
            compare(subject + " lookup", before.lookup?.specText ?? "none", feature.lookup?.specText ?? "none", blocks: true)
        }
        // Every member compared above is equal, yet the lists differ: only the order can.
        if differences.allSatisfy({ !$0.subject.hasPrefix("feature ") }), saved != current {
            add("feature order", saved.map(\.name).joined(separator: ", "), current.map(\.name).joined(separator: ", "), blocks: false)
        }
    }
}

/// One member that differs between a checkpoint's spec and the run's.
public struct SpecDifference: Sendable, Equatable, CustomStringConvertible {
    /// `keys`, `emit`, `feature "amount_sum_1h" window`, ...
    public var subject: String
    /// The value in the checkpoint's spec.
    public var saved: String
    /// The value in the run's spec.
    public var current: String
    /// Whether `run --resume` refuses the checkpoint for it.
    public var blocksResume: Bool

    public var description: String { "\(subject): \(saved) -> \(current)" }
}

/// A job compared with a checkpoint: its spec with the stored spec, and the run's backend and
/// key-group count with those the checkpoint's state was written with.
public struct CheckpointCompatibility: Sendable {
    public var checkpoint: CheckpointMetadata
    /// Nil when the stored spec cannot be decoded (then nothing can be compared and the
    /// resume is refused).
    public var spec: SpecDiff?
    /// Backend and key-group count, checked by the resume before the spec.
    public var layout: [SpecDifference]

    public init(checkpoint: CheckpointMetadata, current: JobSpec, backend: StateBackendKind, allowDrop: Bool = false) {
        self.checkpoint = checkpoint
        spec = (try? JobSpec.decode(Array(checkpoint.spec.utf8)).spec).map { SpecDiff(saved: $0, current: current, allowDrop: allowDrop) }
        layout = []
        if checkpoint.backend != backend.rawValue {
            layout.append(SpecDifference(subject: "backend", saved: checkpoint.backend, current: backend.rawValue, blocksResume: true))
        }
        if checkpoint.maxParallelism != current.maxParallelism {
            layout.append(SpecDifference(
                subject: "maxParallelism", saved: String(checkpoint.maxParallelism), current: String(current.maxParallelism),
                blocksResume: true))
        }
    }

    /// Every difference, blocking or not: backend and key groups first.
    public var differences: [SpecDifference] { layout + (spec?.differences ?? []) }

    /// Whether `eddy run JOB --resume` would accept the checkpoint.
    public var resumable: Bool { spec != nil && differences.allSatisfy { !$0.blocksResume } }
}

extension EmitMode {
    /// The mode in the spec's words: `event`, `tumbling 1h`, `hopping size 1h, slide 10m`.
    var specText: String {
        switch self {
        case .event: "event"
        case .tumbling(let size): "tumbling \(size.text)"
        case .hopping(let size, let slide): "hopping size \(size.text), slide \(slide.text)"
        case .session(let gap): "session gap \(gap.text)"
        }
    }
}

extension Carry {
    var specText: String {
        switch self {
        case .none: "none"
        case .all: "every column (*)"
        case .columns(let columns): columns.joined(separator: ", ")
        }
    }
}

extension BroadcastLookup {
    var specText: String { "\(column) from \(from)" + (key.map { " by \($0)" } ?? "") }
}
