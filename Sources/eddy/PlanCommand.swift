import ArgumentParser
import Eddy

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the operator graph a job spec compiles into.",
        discussion: """
            With --against CHECKPOINT, print instead how the job differs from the spec the \
            checkpoint stores, and whether `eddy run JOB --resume` would accept it.
            Exit codes: 0 printed (with --against: the checkpoint is resumable); 1 the checkpoint \
            cannot be found or read; 2 invalid spec; 4 (--against) a resume would refuse it.
            """
    )

    @Argument(help: "The job spec (JSON).")
    var job: String

    @Flag(help: "Print the operator graph as Graphviz DOT text (render with e.g. dot -Tsvg).")
    var dot = false

    @Option(help: ArgumentHelp(
        "Compare with a checkpoint: 'latest' (the newest that verifies in --checkpoint-dir) or a checkpoint directory (DIR/chk-000042).",
        valueName: "checkpoint"))
    var against: String?

    @Option(help: "With --against latest: the checkpoint directory. Default: eddy-checkpoints/<code>, as eddy run.")
    var checkpointDir: String?

    @Option(help: "With --against: the backend the resume would use, as eddy run's flag. Default: rocksdb.")
    var stateBackend: StateBackendKind?

    @Option(help: "With --against: the key-group count the resume would use, as eddy run's flag. Default: the spec's.")
    var maxParallelism: Int?

    @Flag(help: "With --against: the resume would be given --allow-drop (features the job no longer has are dropped).")
    var allowDrop = false

    func validate() throws {
        if against == nil {
            let given = [
                ("--checkpoint-dir", checkpointDir != nil), ("--state-backend", stateBackend != nil), ("--max-parallelism", maxParallelism != nil),
                ("--allow-drop", allowDrop),
            ].filter(\.1).map(\.0)
            if !given.isEmpty { throw ValidationError("\(given.joined(separator: ", ")) applies with --against only") }
        }
        if against != nil, dot { throw ValidationError("--dot draws the graph, --against compares with a checkpoint: give one of them") }
        if let maxParallelism, !(1...32768).contains(maxParallelism) {
            throw ValidationError("--max-parallelism \(maxParallelism): expected an integer from 1 to 32768")
        }
    }

    func run() throws {
        var spec = try loadSpec(job)
        guard let against else {
            let plan = JobPlan(spec)
            print(dot ? plan.describeAsDot() : plan.describe())
            return
        }
        if let maxParallelism { spec.maxParallelism = maxParallelism }
        let found: (metadata: CheckpointMetadata, root: String)
        do {
            found = try CheckpointStore.locate(against, root: checkpointDir ?? CheckpointOptions.defaultDirectory(code: spec.code))
        } catch {
            writeToStandardError("eddy: \(error.message)\n")
            throw ExitStatus.runtimeFailure
        }
        let compatibility = CheckpointCompatibility(checkpoint: found.metadata, current: spec, backend: stateBackend ?? .rocksdb, allowDrop: allowDrop)
        print(compatibility.report(job: job, checkpointDirectory: found.root + "/" + CheckpointStore.name(of: found.metadata.id)))
        if !compatibility.resumable { throw ExitStatus.incompatibleCheckpoint }
    }
}

extension ExitStatus {
    /// `plan --against`: the job differs from the checkpoint in a way `run --resume` refuses.
    /// Its own code rather than 2 (invalid spec), so a script tells a broken spec from a
    /// valid one that does not fit this checkpoint; 1 stays "cannot find or read it".
    static let incompatibleCheckpoint = ExitCode(4)
}

extension CheckpointCompatibility {
    /// What `eddy plan --against` prints: the checkpoint, each difference, and the verdict.
    func report(job: String, checkpointDirectory: String) -> String {
        let metadata = checkpoint
        var lines = [
            "checkpoint \(metadata.id) (\(checkpointDirectory)): job \(metadata.code), \(metadata.backend) state, "
                + "\(metadata.maxParallelism) key groups, \(metadata.counters["read"] ?? 0) events read, written \(metadata.createdAt)",
        ]
        guard spec != nil else {
            lines.append("its stored spec cannot be read as a job spec: eddy run \(job) --resume would refuse it")
            return lines.joined(separator: "\n")
        }
        let blocking = differences.filter(\.blocksResume)
        let accepted = differences.filter { !$0.blocksResume }
        if !blocking.isEmpty {
            lines.append("differences a resume refuses (the state is laid out by them):")
            lines += blocking.map { "  \($0)" }
        }
        if !accepted.isEmpty {
            lines.append("differences a resume accepts (they apply from the resume on):")
            lines += accepted.map { "  \($0)" }
        }
        if differences.isEmpty { lines.append("no differences") }
        lines.append(
            resumable
                ? "eddy run \(job) --resume would accept this checkpoint"
                : "eddy run \(job) --resume would refuse this checkpoint; resume it with the spec it stores, or start over without --resume")
        return lines.joined(separator: "\n")
    }
}
