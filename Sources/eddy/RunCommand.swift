import ArgumentParser
import Eddy
import Glibc

extension InputFormat: ExpressibleByArgument {}
extension OutputFormat: ExpressibleByArgument {}
extension BadRecordPolicy: ExpressibleByArgument {}
extension StateBackendKind: ExpressibleByArgument {}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a job over stdin or files and write one record of features per event.",
        discussion: """
            Inputs are read in order as one stream. At the end of input every event still \
            waiting for the watermark is released. A summary line goes to stderr.
            Exit codes: 0 success; 1 runtime failure; 2 invalid job spec; \
            3 stopped at a bad record (--on-bad-record fail); 64 usage error; \
            130, 143 stopped by SIGINT or SIGTERM after a checkpoint (resume with --resume latest).
            """
    )

    @Argument(help: "The job spec (JSON).")
    var job: String

    @Argument(help: "Input files, read in order; '-' or none reads stdin.")
    var inputs: [String] = []

    @Option(help: "Input format: jsonl or csv (with a header). Default: from each file's extension (.csv is CSV), else jsonl.")
    var inputFormat: InputFormat?

    @Option(name: [.short, .long], help: "Write output records to FILE instead of stdout.")
    var output: String?

    @Option(help: "Output format: jsonl or csv. Default: csv when --output ends in .csv, else jsonl.")
    var outputFormat: OutputFormat?

    @Option(help: "Write late events (time <= watermark on arrival) to FILE, in their input format. Default: count and drop.")
    var lateOutput: String?

    @Option(help: "Write rejected records to FILE as JSON Lines with source, line, byte offset and reason.")
    var deadLetter: String?

    @Option(help: "What a bad record does: skip (count it, dead-letter it, go on) or fail (stop with exit 3).")
    var onBadRecord: BadRecordPolicy = .skip

    @Option(help: "Where keyed state lives: memory (heap, not durable), fs (heap, snapshot files per key group), rocksdb (embedded RocksDB, hot keys on the heap).")
    var stateBackend: StateBackendKind = .rocksdb

    @Option(help: "Directory of the fs and rocksdb backends' files. Default: eddy-state/<code> under the working directory.")
    var stateDir: String?

    @Option(parsing: .unconditional, help: "Heap the rocksdb backend may use for resident keys before evicting cold ones to RocksDB, e.g. 64MB, 2GB (binary units). Default: 512MB.")
    var stateMemory: String?

    @Option(parsing: .unconditional, help: "Key groups, the unit in which state is stored and redistributed (1 to 32768). Default: the spec's maxParallelism, else 128.")
    var maxParallelism: Int?

    @Option(name: .customLong("broadcast"), help: ArgumentHelp(
        "A side input every worker sees, for lookup features: NAME=FILE (JSON Lines, or CSV with a header when FILE ends in .csv); repeat for several. A resumed run without it uses the checkpoint's copy; with it, the new file replaces that copy.",
        valueName: "name=file"))
    var broadcast: [String] = []

    @Option(parsing: .unconditional, help: "Keyed workers, each owning a range of key groups; they apply each batch of events side by side, worker 0 on the reading thread (1 to --max-parallelism). Output is the same for every value. Default: 1.")
    var parallelism: Int?

    @Option(help: "Checkpoint directory (fs and rocksdb backends). Default: eddy-checkpoints/<code> under the working directory.")
    var checkpointDir: String?

    @Option(parsing: .unconditional, help: "Also take a checkpoint every N events (e.g. 100000) or every duration (e.g. 30s, 5m). One is always taken at the end of a run and on SIGINT/SIGTERM.")
    var checkpointEvery: String?

    @Option(parsing: .unconditional, help: "Checkpoints to keep (newest first); older ones and the files only they use are deleted.")
    var retain: Int = CheckpointStore.defaultRetain

    @Option(help: "Copy every checkpoint to DIR as well (a backup on another disk or mount); resume falls back to it when the local copy is damaged.")
    var mirror: String?

    @Option(help: "Continue from a checkpoint: 'latest' (the newest that verifies; none yet starts from the beginning) or a checkpoint directory.")
    var resume: String?

    @Flag(help: "With --resume: a feature the checkpoint's job has and this job does not is dropped with its state (without the flag such a resume is refused). Added features start empty without it.")
    var allowDrop = false

    @Flag(help: "At the end of input, keep events still waiting for the watermark in state (for a later --resume with more input) instead of releasing them.")
    var noDrain = false

    @Flag(help: "With stdout as the output: hold records until the checkpoint covering them commits, so a resumed run neither repeats nor loses any. Without it stdout is at-least-once; --output files are always exactly-once.")
    var exactlyOnce = false

    @Flag(help: "Take no checkpoints (the memory backend never takes any).")
    var noCheckpoints = false

    @Flag(name: [.short, .long], help: "Do not print the summary line or the progress line.")
    var quiet = false

    func validate() throws {
        // Inputs are resumed by their checkpoint name (`-`, or a file's canonical path), so a
        // second mention of one would be taken as already read and skipped without a word:
        // refuse it instead.
        var named: [String: String] = [:]
        for path in inputs {
            let canonical = (path == "-" ? InputSource.standardInput : .file(path)).checkpointName
            if let first = named[canonical] {
                if path == "-" { throw ValidationError("stdin ('-') can be read only once") }
                throw ValidationError(
                    "\(path) names the same file as \(first): each input is read once; to read it twice, concatenate the copies into one file or pipe them to stdin")
            }
            named[canonical] = path
        }
        if let stateMemory {
            guard ByteSize.parse(stateMemory) != nil else {
                throw ValidationError("--state-memory \(stateMemory): expected a size like 64MB, 512MB or 2GB")
            }
            guard stateBackend == .rocksdb else {
                throw ValidationError("--state-memory applies to the rocksdb backend only; the \(stateBackend.rawValue) backend keeps all state on the heap")
            }
        }
        try refuseOverlappingFiles()
        if let maxParallelism, !(1...32768).contains(maxParallelism) {
            throw ValidationError("--max-parallelism \(maxParallelism): expected an integer from 1 to 32768")
        }
        if case .failure(let problem) = broadcastFiles() { throw problem }
        if let parallelism, parallelism < 1 {
            throw ValidationError("--parallelism \(parallelism): expected an integer from 1 to the job's maxParallelism")
        }
        if let checkpointEvery, parseCheckpointInterval(checkpointEvery) == nil {
            throw ValidationError("--checkpoint-every \(checkpointEvery): expected a number of events (100000) or a duration (30s, 5m)")
        }
        if retain < 1 { throw ValidationError("--retain \(retain): keep at least 1 checkpoint") }
        let checkpointFlags = [
            ("--checkpoint-every", checkpointEvery != nil), ("--resume", resume != nil), ("--mirror", mirror != nil),
            ("--checkpoint-dir", checkpointDir != nil), ("--no-drain", noDrain), ("--exactly-once", exactlyOnce),
            ("--allow-drop", allowDrop),
        ].filter(\.1).map(\.0)
        if stateBackend == .memory, !checkpointFlags.isEmpty {
            throw ValidationError("the memory backend keeps nothing durable, so it takes no checkpoints (nor resumes from one); use --state-backend fs or rocksdb")
        }
        if noCheckpoints, !checkpointFlags.isEmpty {
            throw ValidationError("--no-checkpoints contradicts \(checkpointFlags.joined(separator: ", ")): drop one or the other")
        }
    }

    func run() throws {
        verifyRuntimeShortcuts()
        var spec = try loadSpec(job)
        if let maxParallelism { spec.maxParallelism = maxParallelism }
        // One worker unless asked, as Flink's parallelism.default: on a shared machine a second
        // worker's gain varies with the neighbours' load (BENCHMARKS.md), its CPU cost does not.
        let workers = parallelism ?? 1
        guard workers <= spec.maxParallelism else {
            writeToStandardError("eddy: --parallelism \(workers) exceeds the job's \(spec.maxParallelism) key groups (maxParallelism): each worker owns at least one; lower --parallelism or raise --max-parallelism\n")
            throw ExitCode.validationFailure
        }
        let plan = JobPlan(spec)
        let state = StateOptions(
            backend: stateBackend, directory: stateDir ?? StateOptions.defaultDirectory(code: spec.code),
            memoryBudget: stateMemory.flatMap(ByteSize.parse) ?? StateOptions.defaultMemoryBudget)
        let format = outputFormat ?? (output?.lowercased().hasSuffix(".csv") == true ? .csv : .jsonl)
        if format == .csv, case .all = plan.carry {
            writeToStandardError("eddy: carry [\"*\"] needs JSON Lines output (CSV needs fixed columns); name the carried columns, or use --output-format jsonl\n")
            throw ExitCode.validationFailure
        }
        let sources: [InputSource] = inputs.isEmpty ? [.standardInput] : inputs.map { $0 == "-" ? .standardInput : .file($0) }
        let options = RunOptions(
            inputFormat: inputFormat, outputFormat: format, onBadRecord: onBadRecord,
            showProgress: !quiet && isatty(2) == 1, drain: !noDrain, exitsAfterRun: true, parallelism: workers)
        var checkpoints: CheckpointOptions?
        if stateBackend != .memory, !noCheckpoints {
            try refuseSharedDirectories(state: state.directory, checkpoints: checkpointDir ?? CheckpointOptions.defaultDirectory(code: spec.code), code: spec.code)
            let interval = checkpointEvery.flatMap(parseCheckpointInterval)
            checkpoints = CheckpointOptions(
                directory: checkpointDir ?? CheckpointOptions.defaultDirectory(code: spec.code),
                everyEvents: interval?.events, everySeconds: interval?.seconds, retain: retain, mirror: mirror,
                resume: resume.map { $0 == "latest" ? .latest : .path($0) }, exactlyOnceStandardOutput: exactlyOnce,
                allowDrop: allowDrop)
            installStopHandlers()
        }
        let specText = (try? String(contentsOfFile: job, encoding: .utf8)) ?? ""
        do {
            do {
                let summary = try runJob(
                    plan: plan, specText: specText, state: state, checkpoints: checkpoints, options: options,
                    inputs: sources, outputs: OutputPaths(output: output, late: lateOutput, deadLetter: deadLetter),
                    broadcasts: try broadcastFiles().get(), notice: { writeToStandardError("eddy: \($0)\n") })
                if !quiet { writeToStandardError(summary.line(code: spec.code) + "\n") }
            } catch let stop as BadRecordStop {
                if !quiet { writeToStandardError(stop.summary.line(code: spec.code) + "\n") }
                writeToStandardError("""
                    eddy: stopped at a bad record: \(stop.message)
                    eddy: fix the record, or run with --on-bad-record skip (and --dead-letter FILE) to set bad records aside

                    """)
                throw ExitStatus.badRecord
            } catch let stop as StopRequested {
                if !quiet { writeToStandardError(stop.summary.line(code: spec.code) + "\n") }
                writeToStandardError("eddy: \(stop)\n")
                throw ExitCode(128 + stop.signal)
            }
            // Everything is written and closed; freeing every key's state one object at a
            // time would only add seconds to a large run's exit.
            Glibc.exit(0)
        } catch let error as IOError {
            writeToStandardError("eddy: \(error.message)\n")
            throw ExitStatus.runtimeFailure
        } catch let error as CheckpointError {
            writeToStandardError("eddy: \(error.message)\n")
            throw ExitStatus.runtimeFailure
        } catch let exit as ExitCode {
            throw exit
        } catch {
            // State backend failures (RocksDB, corrupt state): say what failed, exit 1.
            writeToStandardError("eddy: state: \(error)\n")
            throw ExitStatus.runtimeFailure
        }
    }
}

extension RunCommand {
    /// Refuses an output that names an input, the job, a broadcast file or another output:
    /// outputs are truncated when a run starts, so the input would be gone before it was
    /// read, and two outputs in one file would write over each other.
    func refuseOverlappingFiles() throws {
        var read: [String: String] = [:]
        func reading(_ path: String, _ what: String) {
            if let identity = fileIdentity(path) { read[identity] = what }
        }
        reading(job, "the job spec \(job)")
        for path in inputs where path != "-" { reading(path, "the input \(path)") }
        if case .success(let files) = broadcastFiles() {
            for (name, path) in files { reading(path, "the broadcast input \(name)=\(path)") }
        }
        var written: [String: String] = [:]
        for (flag, path) in [("--output", output), ("--late-output", lateOutput), ("--dead-letter", deadLetter)] {
            guard let path, let identity = fileIdentity(path) else { continue }
            if let input = read[identity] {
                throw ValidationError("\(flag) \(path) is \(input): the output is truncated when the run starts, so it would be lost; write to another file")
            }
            if let other = written[identity] {
                throw ValidationError("\(flag) \(path) is the same file as \(other): each output needs a file of its own")
            }
            written[identity] = "\(flag) \(path)"
        }
    }

    /// What makes two paths one file: an existing regular file's device and inode (so hard
    /// links, symbolic links and `..` all meet), else the canonical path of a file yet to be
    /// created; nil for devices and pipes (`/dev/null` may take two outputs).
    private func fileIdentity(_ path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return canonicalName(path) }
        guard status.st_mode & S_IFMT == S_IFREG else { return nil }
        return "inode \(status.st_dev):\(status.st_ino)"
    }

    /// Refuses a state, checkpoint or mirror directory shared with another of them: each is
    /// locked by the run and holds files of its own, so a shared one would be reported as
    /// in use by this very run.
    func refuseSharedDirectories(state: String, checkpoints: String, code: String) throws {
        var directories = [("--state-dir", state), ("--checkpoint-dir", checkpoints)]
        // Checkpoints are mirrored into a directory per job under the mirror.
        if let mirror { directories.append(("--mirror", mirror + "/" + code)) }
        for (index, (flag, directory)) in directories.enumerated() {
            for (otherFlag, other) in directories[..<index] where canonicalName(directory) == canonicalName(other) {
                writeToStandardError("eddy: \(flag) and \(otherFlag) are the same directory (\(directory)): each needs its own; give \(flag) another directory\n")
                throw ExitCode.validationFailure
            }
        }
    }

    private func canonicalName(_ path: String) -> String { InputSource.file(path).checkpointName }

    /// `--broadcast NAME=FILE` options as a map from name to file.
    func broadcastFiles() -> Result<[String: String], ValidationError> {
        var files: [String: String] = [:]
        for option in broadcast {
            guard let equals = option.firstIndex(of: "="), equals != option.startIndex, option.index(after: equals) != option.endIndex else {
                return .failure(ValidationError("--broadcast \(option): expected NAME=FILE, e.g. --broadcast merchants=merchants.csv"))
            }
            let name = String(option[..<equals])
            guard files[name] == nil else {
                return .failure(ValidationError("--broadcast \(name) is given twice; give each input once"))
            }
            files[name] = String(option[option.index(after: equals)...])
        }
        return .success(files)
    }
}

/// `--checkpoint-every`: a number of events, or a duration in the spec's units.
func parseCheckpointInterval(_ text: String) -> (events: Int64?, seconds: Double?)? {
    if let events = Int64(text), events > 0 { return (events, nil) }
    if let duration = EventDuration.parse(text), duration.microseconds > 0 {
        return (nil, Double(duration.microseconds) / 1e6)
    }
    return nil
}
