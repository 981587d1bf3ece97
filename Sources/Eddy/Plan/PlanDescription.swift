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
    public var formula: String {
        if let lookup {
            return "lookup(\(field ?? "")) in broadcast \(lookup.from): its \(lookup.column) where \(lookup.key ?? field ?? "") matches"
        }
        var text = "\(op.rawValue)(\(field ?? "*"))"
        if let limit { text += " limit \(limit)" }
        text += window.map { " over the last \($0)" } ?? " over all events"
        return text
    }
}

extension JobPlan {
    /// The operator graph, readably, for `eddy plan`.
    public func describe() -> String {
        var lines: [String] = []
        lines.append("job \(spec.code): \(spec.maxParallelism) key groups")
        lines.append("  source   stdin or files (JSON Lines; CSV with a header)")
        lines.append("     |")
        lines.append("  parse    columns: " + fieldNames.joined(separator: ", "))
        if let time = spec.time {
            lines.append("           event time from \"\(time)\" (epoch \(spec.timeUnit.rawValue) or RFC 3339); "
                + "watermark = max time - \(spec.watermark) - 1 tick; "
                + (spec.emit.isWindowed ? "an event is late once every window it falls in has fired" : "older events are late"))
        }
        lines.append("     |")
        lines.append("  key-by   \(spec.keys.joined(separator: " + ")) -> key group = stable hash mod \(spec.maxParallelism)")
        lines.append("           --parallelism N: worker i owns key groups ceil(i*\(spec.maxParallelism)/N) to ((i+1)*\(spec.maxParallelism)-1)/N")
        lines.append("     |")
        for (name, readers) in broadcastInputs.sorted(by: { $0.key < $1.key }) {
            lines.append("  broadcast \(name) (--broadcast \(name)=FILE) -> every worker, read by \(readers.map(\.name).joined(separator: ", ")); checkpointed once")
        }
        if !broadcastInputs.isEmpty { lines.append("     |") }
        if spec.emit.sessionGap != nil {
            lines.append("  window   sessions per key: events at most \(spec.emit.sizeText) apart (inclusive) are one session; a late event may bridge two")
            lines.append("     |")
            lines.append("  keyed    \(features.count) features over each session; when the watermark reaches its last event + the gap, one record per key, in order of session end, then key")
        } else if let windows = spec.emit.windows {
            let kind = windows.size == windows.slide
                ? "tumbling windows of \(spec.emit.sizeText)" : "hopping windows of \(spec.emit.sizeText) every \(spec.emit.slideText)"
            lines.append("  window   \(kind), aligned to the epoch: each event is buffered once per window of it not yet fired")
            lines.append("     |")
            lines.append("  keyed    \(features.count) features over each key's window; when the watermark reaches a window's end - 1, one record per key, in order of window end, then key")
        } else {
            let release = spec.time == nil
                ? "each event in arrival order"
                : "each event once the watermark reaches its time, in event-time order; peers (same key and time) see the same values"
            lines.append("  keyed    \(features.count) features, one state row of \(stateRowBytes) bytes per key; emits \(release)")
            if let ttl = spec.ttl {
                lines.append("           state TTL \(ttl): a key not updated for \(ttl) of event time starts over; its state is removed")
            }
        }
        let width = features.map(\.name.count).max() ?? 0
        for feature in features {
            let padding = String(repeating: " ", count: width - feature.name.count)
            var type = feature.spec.type.rawValue
            if feature.spec.type == .folding { type += " (deprecated alias of aggregating)" }
            lines.append("    \(feature.name)\(padding)  \(feature.spec.formula)  [\(type) state]")
        }
        lines.append("     |")
        var sink = "  sink     stdout or --output (JSON Lines or CSV): " + outputColumns.joined(separator: ", ")
        if case .all = carry { sink += ", plus every other input column" }
        lines.append(sink)
        return lines.joined(separator: "\n")
    }
}

extension JobPlan {
    /// Bytes of one key's state row, as the run lays it out (window and map storage on the
    /// heap comes beside it).
    var stateRowBytes: Int {
        StateRows.layout(features.map { $0.makeStore(broadcasts: broadcasts).stateLayout }).stride
    }
}
