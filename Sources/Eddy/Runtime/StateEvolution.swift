/// DESIGN's spec evolution: a checkpoint resumed by a job whose features were added, dropped
/// (with `--allow-drop`) or reordered, everything else as the checkpoint's spec has it. Each
/// kept feature keeps its state, matched by name; an added one starts empty, as if the key
/// had had no event before the resume; a dropped one's state is left behind. The buffered
/// events carry the run's columns: a column only an added feature reads is missing from them.
struct StateEvolution {
    /// Features of the run the checkpoint lacks, and the checkpoint's the run lacks.
    let added: [String]
    let dropped: [String]
    /// Rewrites the checkpoint's rows and buffered events into the run's layout.
    let translation: StateTranslation

    /// Nil when the checkpoint's job lays out state and events as `current` does.
    init?(saved: JobSpec, current: JobPlan) {
        var saved = saved
        // Key groups are checked apart (a run may override the spec's with a flag).
        saved.maxParallelism = current.spec.maxParallelism
        let savedPlan = JobPlan(saved)
        guard savedPlan.features.map(\.spec) != current.features.map(\.spec) || savedPlan.fieldNames != current.fieldNames else {
            return nil
        }
        let savedNames = savedPlan.features.map(\.spec.name)
        let currentNames = current.features.map(\.spec.name)
        added = currentNames.filter { !savedNames.contains($0) }
        dropped = savedNames.filter { !currentNames.contains($0) }

        // A row is decoded with the checkpoint's stores, then written feature by feature in
        // the run's order, an added feature as a new key's empty state.
        let savedStates = KeyedStates(plan: savedPlan)
        let savedSlot = savedStates.insert("", hash: 0)
        let emptyStates = KeyedStates(plan: current)
        let emptySlot = emptyStates.insert("", hash: 0)
        let featureSources = currentNames.map { savedNames.firstIndex(of: $0) }
        let fieldSources = current.fieldNames.map { savedPlan.fieldNames.firstIndex(of: $0) }
        let savedWidth = savedPlan.fieldNames.count
        translation = StateTranslation(
            row: { bytes throws(StateFormatError) in
                try savedStates.decodeRow(slot: savedSlot, from: bytes)
                var writer = StateWriter()
                writer.write(StateFormat.version)
                writer.write(savedStates.lastUpdated[savedSlot])
                for (index, source) in featureSources.enumerated() {
                    if let source {
                        savedStates.stores[source].encode(slot: savedSlot, to: &writer)
                    } else {
                        emptyStates.stores[index].encode(slot: emptySlot, to: &writer)
                    }
                }
                // Frees what the decoded windows hold before the next row.
                savedStates.reset(slot: savedSlot)
                return writer.bytes
            },
            event: { bytes throws(StateFormatError) in
                let (values, members) = try BufferedEventCodec.decode(bytes, width: savedWidth)
                let translated = fieldSources.map { $0.map { values[$0] } ?? .missing }
                var writer = StateWriter()
                translated.withUnsafeBufferPointer { BufferedEventCodec.encode(values: $0, members: members, to: &writer) }
                return writer.bytes
            })
    }

    /// What the run says of the change.
    var notice: String {
        var parts: [String] = []
        if !added.isEmpty { parts.append("added \(added.map { "\"\($0)\"" }.joined(separator: ", ")) (starting empty)") }
        if !dropped.isEmpty { parts.append("dropped \(dropped.map { "\"\($0)\"" }.joined(separator: ", ")) (their state is left behind)") }
        if parts.isEmpty { parts.append("the features' order changed") }
        return "the job's features differ from the checkpoint's: " + parts.joined(separator: "; ")
    }
}
