extension JobSpec {
    /// One line that says what the job does, for `eddy validate`.
    public var summaryLine: String {
        var parts = ["keys \(keys.joined(separator: ", "))"]
        if let time {
            parts.append("event time \"\(time)\" (\(timeUnit.rawValue) or RFC 3339), watermark \(watermark)")
        } else {
            parts.append("arrival order (no time column)")
        }
        let windowed = features.filter { $0.window != nil }.count
        parts.append("\(features.count) feature\(features.count == 1 ? "" : "s")" + (windowed > 0 ? " (\(windowed) with a lookback window)" : ""))
        if let ttl { parts.append("state TTL \(ttl) of event time") }
        let broadcasts = Set(features.compactMap(\.lookup?.from)).sorted()
        if !broadcasts.isEmpty { parts.append("broadcast input\(broadcasts.count == 1 ? "" : "s") " + broadcasts.joined(separator: ", ")) }
        switch emit {
        case .event: parts.append("one record per event")
        case .tumbling(let size): parts.append("one record per key per tumbling window of \(size)")
        case .hopping(let size, let slide): parts.append("one record per key per hopping window of \(size) every \(slide)")
        case .session(let gap): parts.append("one record per key per session (gap \(gap))")
        }
        return "\(code): valid; " + parts.joined(separator: "; ")
    }
}

extension FeatureSpec {
    /// `sum(amount) over 1h` style, as `eddy plan` prints it.
    public var formula: String { formula(in: .event) }

    /// The formula as it reads in a job emitting `emit`: a feature of a windowed job
    /// aggregates its window's or session's events, not all of the key's.
    func formula(in emit: EmitMode) -> String {
        if let lookup {
            return "lookup(\(field ?? "")) in broadcast \(lookup.from): its \(lookup.column) where \(lookup.key ?? field ?? "") matches"
        }
        var text = "\(op.rawValue)(\(field ?? "*"))"
        if let limit { text += " limit \(limit)" }
        let whole = switch emit {
        case .event: " over all events"
        case .session: " over the session's events"
        case .tumbling, .hopping: " over the window's events"
        }
        text += window.map { " over the last \($0)" } ?? whole
        return text
    }
}

extension JobPlan {
    /// The operator graph, readably, for `eddy plan`.
    public func describe() -> String {
        var lines: [String] = []
        lines.append("job \(spec.code): \(spec.maxParallelism) key groups")
        lines.append("  source   " + sourceText)
        lines.append("     |")
        lines.append("  parse    " + parseText)
        if let eventTimeText { lines.append("           " + eventTimeText) }
        lines.append("     |")
        lines.append("  key-by   " + keyByText)
        lines.append("           " + workersText)
        lines.append("     |")
        for (name, readers) in sortedBroadcastInputs {
            lines.append("  broadcast " + broadcastText(name, readers: readers))
        }
        if !broadcastInputs.isEmpty { lines.append("     |") }
        if let windowText {
            lines.append("  window   " + windowText)
            lines.append("     |")
        }
        lines.append("  keyed    " + keyedText)
        if let ttlText { lines.append("           " + ttlText) }
        let width = features.map(\.name.count).max() ?? 0
        for feature in features {
            let padding = String(repeating: " ", count: width - feature.name.count)
            lines.append("    \(feature.name)\(padding)  \(feature.spec.formula(in: spec.emit))  [\(feature.stateTypeText) state]")
        }
        lines.append("     |")
        lines.append("  sink     " + sinkText)
        return lines.joined(separator: "\n")
    }

    /// The same graph as Graphviz DOT, for `eddy plan --dot`: one node per stage, the
    /// features in a cluster for the keyed stage, each broadcast input an edge into the
    /// lookups that read it. The texts are `describe()`'s.
    public func describeAsDot() -> String {
        var lines = [
            "digraph \(dotQuoted(spec.code)) {",
            "  label=\(dotQuoted("job \(spec.code): \(spec.maxParallelism) key groups")); labelloc=t; compound=true;",
            "  node [shape=box, fontname=\"monospace\"];",
            "  source [label=\(dotLabel("source", [sourceText]))];",
            "  parse [label=\(dotLabel("parse", [parseText] + (eventTimeText.map { [$0] } ?? [])))];",
            "  key_by [label=\(dotLabel("key-by", [keyByText, workersText]))];",
        ]
        var edges = ["  source -> parse;", "  parse -> key_by;"]
        // Edges into and out of the cluster are drawn to its border (compound=true).
        let first = features.indices.first.map { "feature_\($0)" } ?? "keyed_empty"
        let last = features.indices.last.map { "feature_\($0)" } ?? "keyed_empty"
        if let windowText {
            lines.append("  window [label=\(dotLabel("window", [windowText]))];")
            edges.append("  key_by -> window;")
            edges.append("  window -> \(first) [lhead=cluster_keyed];")
        } else {
            edges.append("  key_by -> \(first) [lhead=cluster_keyed];")
        }
        lines.append("  subgraph cluster_keyed {")
        lines.append("    label=\(dotQuoted("keyed: " + keyedText + (ttlText.map { "\n" + $0 } ?? "")));")
        if features.isEmpty { lines.append("    keyed_empty [label=\"no features\"];") }
        for (index, feature) in features.enumerated() {
            lines.append("    feature_\(index) [shape=ellipse, label=\(dotLabel(feature.name, [feature.spec.formula(in: spec.emit), "[\(feature.stateTypeText) state]"]))];")
        }
        lines.append("  }")
        for (number, (name, readers)) in sortedBroadcastInputs.enumerated() {
            lines.append("  broadcast_\(number) [shape=cylinder, label=\(dotLabel("broadcast", [broadcastText(name, readers: readers)]))];")
            for (index, feature) in features.enumerated() where feature.spec.lookup?.from == name {
                edges.append("  broadcast_\(number) -> feature_\(index) [style=dashed];")
            }
        }
        lines.append("  sink [label=\(dotLabel("sink", [sinkText]))];")
        edges.append("  \(last) -> sink [ltail=cluster_keyed];")
        return (lines + edges + ["}"]).joined(separator: "\n")
    }

    private var sourceText: String { "stdin or files (JSON Lines; CSV with a header)" }

    private var parseText: String { "columns: " + fieldNames.joined(separator: ", ") }

    private var eventTimeText: String? {
        spec.time.map { time in
            "event time from \"\(time)\" (epoch \(spec.timeUnit.rawValue) or RFC 3339); "
                + "watermark = max time - \(spec.watermark) - 1 tick; "
                + (spec.emit.isWindowed ? "an event is late once every window it falls in has fired" : "older events are late")
        }
    }

    private var keyByText: String { "\(spec.keys.joined(separator: " + ")) -> key group = stable hash mod \(spec.maxParallelism)" }

    private var workersText: String {
        "--parallelism N: worker i owns key groups ceil(i*\(spec.maxParallelism)/N) to ((i+1)*\(spec.maxParallelism)-1)/N"
    }

    private var sortedBroadcastInputs: [(key: String, value: [FeaturePlan])] {
        broadcastInputs.sorted { $0.key < $1.key }
    }

    private func broadcastText(_ name: String, readers: [FeaturePlan]) -> String {
        "\(name) (--broadcast \(name)=FILE) -> every worker, read by \(readers.map(\.name).joined(separator: ", ")); checkpointed once"
    }

    /// The window stage, for windowed jobs.
    private var windowText: String? {
        if spec.emit.sessionGap != nil {
            return "sessions per key: events at most \(spec.emit.sizeText) apart (inclusive) are one session; a late event may bridge two"
        }
        guard let windows = spec.emit.windows else { return nil }
        let kind = windows.size == windows.slide
            ? "tumbling windows of \(spec.emit.sizeText)" : "hopping windows of \(spec.emit.sizeText) every \(spec.emit.slideText)"
        return "\(kind), aligned to the epoch: each event is buffered once per window of it not yet fired"
    }

    private var featureCountText: String { "\(features.count) feature\(features.count == 1 ? "" : "s")" }

    private var keyedText: String {
        if spec.emit.sessionGap != nil {
            return "\(featureCountText) over each session; when the watermark reaches its last event + the gap, one record per key, in order of session end, then key"
        }
        if spec.emit.windows != nil {
            return "\(featureCountText) over each key's window; when the watermark reaches a window's end - 1, one record per key, in order of window end, then key"
        }
        let release = spec.time == nil
            ? "each event in arrival order"
            : "each event once the watermark reaches its time, in event-time order; peers (same key and time) see the same values"
        return "\(featureCountText), one state row of \(stateRowBytes) bytes per key; emits \(release)"
    }

    /// State TTL, which applies to event-mode jobs (windowed ones keep no state across windows).
    private var ttlText: String? {
        guard !spec.emit.isWindowed, let ttl = spec.ttl else { return nil }
        return "state TTL \(ttl): a key not updated for \(ttl) of event time starts over; its state is removed"
    }

    private var sinkText: String {
        var sink = "stdout or --output (JSON Lines or CSV): " + outputColumns.joined(separator: ", ")
        if case .all = carry { sink += ", plus every other input column" }
        return sink
    }
}

extension FeaturePlan {
    fileprivate var stateTypeText: String {
        spec.type == .folding ? spec.type.rawValue + " (deprecated alias of aggregating)" : spec.type.rawValue
    }
}

/// A DOT string literal: quotes and backslashes escaped, line breaks as DOT's `\n`.
private func dotQuoted(_ text: String) -> String {
    var quoted = "\""
    for character in text {
        switch character {
        case "\"": quoted += "\\\""
        case "\\": quoted += "\\\\"
        case "\n": quoted += "\\n"
        default: quoted.append(character)
        }
    }
    return quoted + "\""
}

/// A node label: the stage's name, then its lines.
private func dotLabel(_ title: String, _ lines: [String]) -> String {
    dotQuoted(([title] + lines).joined(separator: "\n"))
}

extension JobPlan {
    /// Bytes of one key's state row, as the run lays it out (window and map storage on the
    /// heap comes beside it).
    var stateRowBytes: Int {
        StateRows.layout(features.map { $0.makeStore(broadcasts: broadcasts).stateLayout }).stride
    }
}
