import Foundation

/// Which state backend a run uses (`--state-backend`).
public enum StateBackendKind: String, Sendable, CaseIterable {
    /// Heap state, nothing durable.
    case memory
    /// Heap state, snapshots written per key group to files under the state directory.
    case fs
    /// Embedded RocksDB under the state directory, hot keys cached within a memory budget.
    case rocksdb
}

public struct StateOptions: Sendable {
    public var backend: StateBackendKind
    /// Where durable backends keep their files.
    public var directory: String
    /// Heap bytes the rocksdb backend keeps resident before evicting cold keys.
    public var memoryBudget: Int

    public static let defaultMemoryBudget = 512 << 20

    public init(backend: StateBackendKind = .rocksdb, directory: String, memoryBudget: Int = defaultMemoryBudget) {
        self.backend = backend
        self.directory = directory
        self.memoryBudget = memoryBudget
    }

    /// `eddy-state/<code>` under the working directory.
    public static func defaultDirectory(code: String) -> String { "eddy-state/" + code }
}

/// The absolute path with symbolic links and `.` resolved (what `realpath` gives), so that
/// `out.jsonl`, `./out.jsonl` and `/work/out.jsonl` name one file; a missing file keeps its
/// resolved directory.
func canonicalPath(_ path: String) -> String {
    if path == "-" { return path }
    if let resolved = realpath(path, nil) {
        defer { free(resolved) }
        return String(cString: resolved)
    }
    let directory = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    guard let resolved = realpath(directory.isEmpty ? "." : directory, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved) + "/" + name
}

/// The checkpoint file of stdout records held under `--exactly-once`.
private let heldOutputFile = "stdout.held"
/// How far the release of a checkpoint's held stdout records got (`HeldOutputRelease`).
private let heldOutputReleaseFile = "stdout.release"

/// Records a step of the release of a checkpoint's held records, replacing the previous
/// step atomically (a new file renamed over the old), so a crash leaves one step or the other.
private func mark(_ step: HeldOutputRelease, inCheckpoint directory: String) throws {
    let path = directory + "/" + heldOutputReleaseFile
    try DurableFiles.write(Array(step.text.utf8), to: path + ".tmp")
    guard rename(path + ".tmp", path) == 0 else {
        throw IOError("cannot write \(path): \(String(cString: strerror(errno)))")
    }
    try DurableFiles.syncDirectory(directory)
}

/// Where a run's records go: files, or stdout for `output` when nil.
public struct OutputPaths: Sendable {
    public var output: String?
    public var late: String?
    public var deadLetter: String?

    public init(output: String? = nil, late: String? = nil, deadLetter: String? = nil) {
        self.output = output
        self.late = late
        self.deadLetter = deadLetter
    }
}

/// Runs `plan` over `inputs` with the backend `state` names, taking checkpoints when
/// `checkpoints` is given (and resuming from one when it says so).
///
/// `specText` is the job spec as read, stored in every checkpoint; `broadcasts` names the
/// file of each broadcast input (`--broadcast NAME=FILE`); `notice` receives what the user
/// should know (a resume, a skipped corrupt checkpoint, a replaced broadcast input).
public func runJob(
    plan: JobPlan, specText: String, state: StateOptions, checkpoints: CheckpointOptions?,
    options: RunOptions, inputs: [InputSource], outputs: OutputPaths, broadcasts: [String: String] = [:],
    notice: (String) -> Void = { _ in }
) throws -> RunSummary {
    guard let checkpoints else {
        // Side inputs first: a run that cannot start must not have truncated its outputs.
        var plan = plan
        plan.broadcasts = try BroadcastInputs.state(for: plan, files: broadcasts, checkpoint: nil, notice: notice)
        let sinks = try OutputSinks(outputs, committed: nil, syncsFileNames: false)
        return try sinks.closing {
            try runJob(
                plan: plan, state: state, options: options, inputs: inputs,
                output: sinks.output, lateOutput: sinks.late, deadLetters: sinks.deadLetters)
        }
    }
    guard state.backend != .memory else {
        throw CheckpointError("the memory backend keeps nothing durable, so it takes no checkpoints; use --state-backend fs or rocksdb")
    }
    // One job per mirror subdirectory: jobs may share a --mirror without clashing.
    let store = try CheckpointStore(
        root: checkpoints.directory, retain: checkpoints.retain, mirror: checkpoints.mirror.map { $0 + "/" + plan.spec.code })
    let resumed = try checkpoints.resume.flatMap { target in
        try findCheckpoint(target, in: store, plan: plan, state: state, allowDrop: checkpoints.allowDrop, notice: notice)
    }
    var plan = plan
    plan.broadcasts = try BroadcastInputs.state(
        for: plan, files: broadcasts, checkpoint: resumed.map { $0.root + "/" + CheckpointStore.name(of: $0.metadata.id) },
        notice: notice)
    let sinks = try OutputSinks(outputs, committed: resumed?.metadata.outputs, syncsFileNames: true)
    return try sinks.closing {
        if checkpoints.exactlyOnceStandardOutput, outputs.output == nil {
            sinks.output.holdsUntilReleased = true
            // Records the resumed checkpoint committed but a crash kept from stdout go first.
            if let resumed {
                let directory = resumed.root + "/" + CheckpointStore.name(of: resumed.metadata.id)
                let held = directory + "/" + heldOutputFile
                let release = (try? DurableFiles.read(directory + "/" + heldOutputReleaseFile))
                    .flatMap { HeldOutputRelease(text: String(decoding: $0, as: UTF8.self)) }
                if DurableFiles.exists(held), release != .written {
                    if case .writing(let size) = release {
                        // The crash came while they were being written: a file is cut back to
                        // where they began; a pipe cannot be asked, so some may show twice.
                        if let size, let current = sinks.output.regularFileSize(), current >= size {
                            try sinks.output.cutBack(to: size)
                        } else {
                            notice("stdout is a pipe and a crash interrupted the writing of checkpoint \(resumed.metadata.id)'s records: some may appear twice")
                        }
                    }
                    // The same steps as the run's own release, so a crash now is recovered alike.
                    let size = sinks.output.regularFileSize()
                    try mark(.writing(size: size), inCheckpoint: directory)
                    sinks.output.buffer.append(contentsOf: try DurableFiles.read(held))
                    try sinks.output.releaseHeld()
                    try sinks.output.sync()
                    try mark(.written, inCheckpoint: directory)
                }
            }
        }
        let restoreStarted = Date()
        func run<Backend: CheckpointingStateBackend>(_ backends: [Backend]) throws -> RunSummary {
            if let resumed {
                notice(String(format: "restored checkpoint %ld in %.3f s", resumed.metadata.id, Date().timeIntervalSince(restoreStarted)))
            }
            let schedule = CheckpointSchedule(everyEvents: checkpoints.everyEvents, everySeconds: checkpoints.everySeconds) {
                position, buffered, heldOutput in
                let staging = try store.stage()
                try Backend.checkpoint(backends, buffered: buffered, into: staging)
                try BroadcastInputs.write(plan.broadcasts, into: staging)
                if !heldOutput.isEmpty {
                    try DurableFiles.write(heldOutput, to: staging.directory + "/" + heldOutputFile)
                    try staging.addPrivateFile(heldOutputFile)
                }
                let metadata = CheckpointMetadata(
                    id: staging.id, createdAt: CheckpointStore.timestamp(), spec: specText, code: plan.spec.code,
                    backend: state.backend.rawValue, stateFormatVersion: Int(StateFormat.version),
                    maxParallelism: plan.spec.maxParallelism, parallelism: backends.count, counters: position.counters,
                    sources: position.sources, outputs: position.outputs)
                return try store.publish(staging, metadata: metadata).id
            } heldOutputRelease: { id, step in
                // In the mirror's copy too: a resume from it must know what reached stdout.
                for root in [store.root, store.mirror].compactMap({ $0 }) {
                    try mark(step, inCheckpoint: root + "/" + CheckpointStore.name(of: id))
                }
            }
            let resume = resumed.map {
                ResumePoint(
                    checkpointID: $0.metadata.id,
                    outputCommitted: $0.metadata.outputs.first { $0.role == "output" }?.length ?? 0, counters: $0.metadata.counters, sources: $0.metadata.sources,
                    buffered: backends.flatMap(\.restoredEvents))
            }
            return try JobRunner(
                plan: plan, backends: backends, options: options, output: sinks.output, lateOutput: sinks.late,
                deadLetters: sinks.deadLetters, checkpoints: schedule, resume: resume
            ).run(inputs)
        }
        switch state.backend {
        case .memory:
            preconditionFailure("refused above")
        case .fs:
            let directory = state.directory + "/snapshot"
            // Held for the run, as the rocksdb store holds it: one run's snapshots at a time.
            let lock = try DirectoryLock.stateDirectory(state.directory)
            return try withExtendedLifetime(lock) {
                if let resumed {
                    // Each worker reads the files of its own key groups, whatever the parallelism
                    // that wrote them.
                    let checkpoint = resumed.root + "/" + CheckpointStore.name(of: resumed.metadata.id)
                    return try run(keyGroupRanges(plan, options.parallelism).map {
                        try FileSystemStateBackend(
                            plan: plan, directory: directory, restoringCheckpoint: checkpoint, keyGroups: $0,
                            translating: resumed.evolution?.translation)
                    })
                }
                return try run(keyGroupRanges(plan, options.parallelism).map { _ in
                    FileSystemStateBackend(plan: plan, directory: directory)
                })
            }
        case .rocksdb:
            let directory = state.directory + "/rocksdb"
            let store = try resumed.map { try RocksStateStore(directory: directory, restoring: $0.metadata, from: $0.root) }
                ?? RocksStateStore(directory: directory)
            if let translation = resumed?.evolution?.translation { try store.translate(translation) }
            return try run(rocksWorkers(plan, store: store, state: state, parallelism: options.parallelism))
        }
    }
}

/// Runs `plan` over `inputs` with the backend `state` names, writing to open sinks, with
/// no checkpoints; its broadcast inputs are loaded already or come from `broadcasts`.
public func runJob(
    plan: JobPlan, state: StateOptions, options: RunOptions, inputs: [InputSource],
    output: ByteSink, lateOutput: ByteSink? = nil, deadLetters: ByteSink? = nil, broadcasts: [String: String] = [:]
) throws -> RunSummary {
    var plan = plan
    if plan.broadcasts.tables.count < plan.broadcastInputs.count {
        plan.broadcasts = try BroadcastInputs.state(for: plan, files: broadcasts, checkpoint: nil, notice: { _ in })
    }
    func run<Backend: KeyedStateBackend>(_ backends: [Backend]) throws -> RunSummary {
        try JobRunner(
            plan: plan, backends: backends, options: options,
            output: output, lateOutput: lateOutput, deadLetters: deadLetters, checkpoints: nil, resume: nil
        ).run(inputs)
    }
    let ranges = keyGroupRanges(plan, options.parallelism)
    switch state.backend {
    case .memory:
        return try run(ranges.map { _ in MemoryStateBackend(plan: plan) })
    case .fs:
        // Held for the run, as the rocksdb store holds it: two runs' snapshots written into
        // one directory at once could be published mixed.
        let lock = try DirectoryLock.stateDirectory(state.directory)
        return try withExtendedLifetime(lock) {
            try run(ranges.map { _ in FileSystemStateBackend(plan: plan, directory: state.directory + "/snapshot") })
        }
    case .rocksdb:
        let store = try RocksStateStore(directory: state.directory + "/rocksdb")
        return try run(rocksWorkers(plan, store: store, state: state, parallelism: options.parallelism))
    }
}

/// The key groups of each of `parallelism` workers (Flink's `KeyGroupRangeAssignment`).
func keyGroupRanges(_ plan: JobPlan, _ parallelism: Int) -> [ClosedRange<Int>] {
    (0..<parallelism).map {
        KeyGroups.keyGroupRange(operatorIndex: $0, maxParallelism: plan.spec.maxParallelism, parallelism: parallelism)
    }
}

/// One rocksdb worker per key-group range over the run's one database, the memory budget
/// split evenly between them.
private func rocksWorkers(_ plan: JobPlan, store: RocksStateStore, state: StateOptions, parallelism: Int) throws -> [RocksStateBackend] {
    try keyGroupRanges(plan, parallelism).map {
        try RocksStateBackend(plan: plan, store: store, keyGroups: $0, memoryBudget: state.memoryBudget / parallelism)
    }
}

/// A run's output files, created (truncated) for a fresh run or cut back to the lengths a
/// checkpoint committed for a resumed one.
private struct OutputSinks {
    let output: ByteSink
    let late: ByteSink?
    let deadLetters: ByteSink?

    /// Every file is opened (a resumed one checked against the checkpoint) before any is
    /// cut back, so a run that cannot open one of them has changed none; a sink released
    /// when a later one fails closes its descriptor. `syncsFileNames` (a run that takes
    /// checkpoints) syncs the directory of each file once: checkpoints record the files'
    /// lengths, and a file just created could otherwise lose its name on a power loss.
    init(_ paths: OutputPaths, committed: [OutputLength]?, syncsFileNames: Bool) throws {
        func open(_ path: String, role: String) throws -> ByteSink {
            // A fresh run's outputs, and one the checkpointed run did not have, start empty.
            guard let saved = committed?.first(where: { $0.role == role }) else { return try ByteSink.open(path: path, keeping: 0) }
            guard canonicalPath(saved.path) == canonicalPath(path) else {
                throw CheckpointError(
                    "the checkpoint committed \(saved.length) bytes of \(role) \(saved.path), but this run writes \(role) to \(path); resume with the same file")
            }
            return try ByteSink.open(path: path, keeping: saved.length)
        }
        let file = try paths.output.map { try open($0, role: "output") }
        late = try paths.late.map { try open($0, role: "late") }
        deadLetters = try paths.deadLetter.map { try open($0, role: "dead-letter") }
        for sink in [file, late, deadLetters] { try sink?.cutBackToKept() }
        if syncsFileNames {
            let files = [file, late, deadLetters].compactMap { $0 }.filter { $0.regularFileSize() != nil }
            for directory in Set(files.map { (canonicalPath($0.name) as NSString).deletingLastPathComponent }) {
                try DurableFiles.syncDirectory(directory)
            }
        }
        if let file {
            output = file
        } else {
            output = ByteSink.standardOutput()
            output.continueCounting(from: committed?.first { $0.role == "output" }?.length ?? 0)
        }
    }

    /// Runs `body`, then closes every sink, also when `body` throws.
    func closing(_ body: () throws -> RunSummary) throws -> RunSummary {
        let summary: RunSummary
        do {
            summary = try body()
        } catch {
            // The run's own failure is the one to report.
            try? close()
            throw error
        }
        try close()
        return summary
    }

    /// Closes every sink, also those after one that fails to flush; throws the first failure.
    private func close() throws {
        var firstFailure: IOError?
        for sink in [output, late, deadLetters] {
            do { try sink?.close() } catch { firstFailure = firstFailure ?? error }
        }
        if let firstFailure { throw firstFailure }
    }
}

public enum ResumeTarget: Sendable, Equatable {
    /// The newest checkpoint that verifies (local copy first, then the mirror); none yet
    /// means start from the beginning.
    case latest
    /// A checkpoint directory (`.../chk-000042`).
    case path(String)
}

public struct CheckpointOptions: Sendable {
    public var directory: String
    public var everyEvents: Int64?
    public var everySeconds: Double?
    public var retain: Int
    public var mirror: String?
    public var resume: ResumeTarget?
    /// With stdout as the output: hold records until the checkpoint covering them commits.
    public var exactlyOnceStandardOutput: Bool
    /// A resume may drop the state of features the job no longer has (`--allow-drop`).
    public var allowDrop: Bool

    public init(
        directory: String, everyEvents: Int64? = nil, everySeconds: Double? = nil, retain: Int = 3,
        mirror: String? = nil, resume: ResumeTarget? = nil, exactlyOnceStandardOutput: Bool = false, allowDrop: Bool = false
    ) {
        self.allowDrop = allowDrop
        self.exactlyOnceStandardOutput = exactlyOnceStandardOutput
        self.directory = directory
        self.everyEvents = everyEvents
        self.everySeconds = everySeconds
        self.retain = retain
        self.mirror = mirror
        self.resume = resume
    }

    /// `eddy-checkpoints/<code>` under the working directory.
    public static func defaultDirectory(code: String) -> String { "eddy-checkpoints/" + code }
}

/// The checkpoint `target` names, checked against this run: same backend, same key groups,
/// same features.
private func findCheckpoint(
    _ target: ResumeTarget, in store: CheckpointStore, plan: JobPlan, state: StateOptions, allowDrop: Bool, notice: (String) -> Void
) throws -> (metadata: CheckpointMetadata, root: String, evolution: StateEvolution?)? {
    let found: (metadata: CheckpointMetadata, root: String)
    switch target {
    case .latest:
        let usable = store.newestUsable()
        guard let newest = usable.found else {
            guard usable.skipped.isEmpty else {
                // Starting over would truncate the outputs and, after `--retain` new
                // checkpoints, delete the damaged ones: the user decides.
                throw CheckpointError(
                    "no checkpoint in \(store.root) verifies:\n  " + usable.skipped.joined(separator: "\n  ")
                        + "\nput a good copy back from a backup, or remove the directory to start over (the outputs are then rewritten from the beginning)")
            }
            notice("no checkpoint in \(store.root) yet: starting from the beginning (outputs are truncated)")
            return nil
        }
        for skipped in usable.skipped { notice("skipped a damaged checkpoint: \(skipped)") }
        found = newest
    case .path(let path):
        do {
            let (id, root) = try CheckpointStore.verifiedCheckpoint(at: path, example: store.root)
            found = (try CheckpointStore.load(id: id, in: root), root)
        } catch {
            throw CheckpointError("--resume " + error.message)
        }
    }
    let metadata = found.metadata
    guard metadata.backend == state.backend.rawValue else {
        throw CheckpointError(
            "checkpoint \(metadata.id) holds \(metadata.backend) state; resume it with --state-backend \(metadata.backend) (this run asked for \(state.backend.rawValue))")
    }
    guard metadata.maxParallelism == plan.spec.maxParallelism else {
        throw CheckpointError(
            "checkpoint \(metadata.id) has \(metadata.maxParallelism) key groups, this run \(plan.spec.maxParallelism): key groups cannot change after state is written; use --max-parallelism \(metadata.maxParallelism)")
    }
    // The same comparison `eddy plan --against` prints, so the refusal names what differs.
    let saved = try? JobSpec.decode(Array(metadata.spec.utf8)).spec
    let blocking = saved.map { SpecDiff(saved: $0, current: plan.spec, allowDrop: allowDrop).blocking }
    guard metadata.code == plan.spec.code, let saved, let blocking, blocking.isEmpty else {
        let differences = blocking.map { $0.isEmpty ? "code: \(metadata.code) -> \(plan.spec.code)" : $0.map(\.description).joined(separator: "; ") }
            ?? "its stored spec cannot be read"
        throw CheckpointError(
            "checkpoint \(metadata.id) was written by job \"\(metadata.code)\" with a different spec (\(differences)); resume it with the spec it stores (in its _metadata, or compare with eddy plan JOB --against CHECKPOINT), or start over without --resume")
    }
    notice("resuming from checkpoint \(metadata.id) (\(found.root)): \(metadata.counters["read"] ?? 0) events read so far")
    let evolution = StateEvolution(saved: saved, current: plan)
    if let evolution { notice(evolution.notice) }
    return (found.metadata, found.root, evolution)
}

/// Byte sizes as users write them: `512MB`, `64MiB`, `1GB`, `100k`, `4096`. Units are
/// binary (1 KB = 1024 bytes), as memory budgets usually are.
public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let shift: Int
        switch unit {
        case "", "b": shift = 0
        case "k", "kb", "kib": shift = 10
        case "m", "mb", "mib": shift = 20
        case "g", "gb", "gib": shift = 30
        case "t", "tb", "tib": shift = 40
        default: return nil
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : bytes
    }
}
