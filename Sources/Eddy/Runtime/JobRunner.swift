import Glibc

/// Where a run reads events from.
public enum InputSource: Sendable, Equatable {
    case standardInput
    case file(String)

    public var name: String {
        switch self {
        case .standardInput: "stdin"
        case .file(let path): path
        }
    }

    /// How checkpoints name the input: its canonical path, or `-` for stdin.
    public var checkpointName: String {
        switch self {
        case .standardInput: "-"
        case .file(let path): canonicalPath(path)
        }
    }

    /// The format named by the file's extension: `.csv` is CSV, anything else JSON Lines.
    public var inferredFormat: InputFormat {
        if case .file(let path) = self, path.lowercased().hasSuffix(".csv") { return .csv }
        return .jsonl
    }
}

public enum BadRecordPolicy: String, Sendable, CaseIterable {
    /// Count the record, write it to the dead-letter output if there is one, and go on.
    case skip
    /// Stop the run at the first bad record with its location and reason.
    case fail
}

public struct RunOptions: Sendable {
    /// nil: inferred per input from its extension.
    public var inputFormat: InputFormat?
    public var outputFormat: OutputFormat
    public var onBadRecord: BadRecordPolicy
    public var showProgress: Bool
    /// At the end of input, release every buffered event (true), or keep them in state for
    /// a later run resumed with more input (`--no-drain`).
    public var drain: Bool
    /// The process exits right after the run (the CLI): heap state is left to the exit
    /// instead of being freed one key at a time, which took seconds for large states.
    /// Backends still close their stores.
    public var exitsAfterRun: Bool
    /// Keyed workers, each owning a range of key groups (1 to maxParallelism).
    public var parallelism: Int

    public init(
        inputFormat: InputFormat? = nil, outputFormat: OutputFormat = .jsonl,
        onBadRecord: BadRecordPolicy = .skip, showProgress: Bool = false, drain: Bool = true,
        exitsAfterRun: Bool = false, parallelism: Int = 1
    ) {
        self.parallelism = parallelism
        self.exitsAfterRun = exitsAfterRun
        self.inputFormat = inputFormat
        self.outputFormat = outputFormat
        self.onBadRecord = onBadRecord
        self.showProgress = showProgress
        self.drain = drain
    }
}

/// Every event read ends up in exactly one of emitted, late or rejected, or, when a run ends
/// without a drain (a bad record with `--on-bad-record fail`, SIGINT or SIGTERM,
/// `--no-drain`), pending: accepted but not yet passed by the watermark.
public struct RunSummary: Sendable, Equatable {
    public var read: Int64 = 0
    public var emitted: Int64 = 0
    public var late: Int64 = 0
    public var rejected: Int64 = 0
    public var pending: Int64 = 0
    public var keys: Int = 0
    /// Bytes of unfinished last lines left unread for a resumed run (`--no-drain`).
    public var unreadTailBytes: Int64 = 0
    /// Windowed jobs: the (window, key) records written; nil for event mode.
    public var windows: Int64?
    public var elapsedSeconds: Double = 0

    public var eventsPerSecond: Double { elapsedSeconds > 0 ? Double(read) / elapsedSeconds : 0 }

    public func line(code: String) -> String {
        "eddy: \(code): \(read) events read: \(emitted) emitted, \(late) late, \(rejected) rejected"
            + (pending > 0 ? ", \(pending) pending (buffered, not yet passed by the watermark)" : "") + "; "
            + (windows.map { "\($0) windows" } ?? "\(keys) keys") + "; "
            + "\(formatSeconds(elapsedSeconds)), \(formatRate(eventsPerSecond)) events/s"
            + (unreadTailBytes > 0
                ? "; \(unreadTailBytes) bytes of a last line without its newline left unread for the next --resume" : "")
    }
}

/// The run stopped at a bad record because of `--on-bad-record fail`.
public struct BadRecordStop: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var summary: RunSummary
    public var description: String { message }
}

/// The runtime of one job: source -> parse -> key-by -> keyed features -> sink. One thread
/// reads, parses and orders events; the keyed workers (`KeyedWorkers`) apply each release
/// batch side by side.
///
/// With event time, accepted events wait in `PendingEvents` until the watermark (max event
/// time seen - bound - 1 tick) reaches them, and are then released in (time, arrival) order;
/// events of one key with the same time are peers: all are applied before any is emitted,
/// so they see the same values, as Flink SQL's `RANGE` OVER windows do.
public final class JobRunner<Backend: KeyedStateBackend> {
    private let plan: JobPlan
    private let options: RunOptions
    private let workers: KeyedWorkers<Backend>
    /// Windowed jobs: windows fire here instead of events going to the workers.
    private let windowFiring: WindowFiring?
    /// Session jobs: released events join their key's sessions here.
    private let sessionWindows: SessionWindows?
    private let encoder: EventEncoder
    private let output: ByteSink
    private let lateOutput: ByteSink?
    private let deadLetters: ByteSink?

    private var summary = RunSummary()
    private let pending: PendingEvents
    /// Per field slot checked on every record, the value kinds it takes (bit
    /// `kind.rawValue`): keys strings and numbers, the fields of numeric operators numbers,
    /// null or nothing (both, for a key read as a number: numbers). The first two checks
    /// (the first twice when there is one; nil when there is none) are tested without a
    /// loop, then the rest: a job checks one or two slots as a rule, and a loop over them
    /// all took ~8 instructions an event more.
    private let firstTwoChecks: (first: (slot: Int, kinds: UInt8), second: (slot: Int, kinds: UInt8))?
    private let laterChecks: [(slot: Int, kinds: UInt8)]
    private var watermark = Int64.min
    private var maxEventTime = Int64.min
    private let watermarkBound: Int64
    private let timeUnit: Int64
    private let carriesAllMembers: Bool
    private var batch: [PendingEvents.Entry] = []
    private var insertsSinceRelease = 0
    /// The watermark at the last TTL cleanup.
    private var expiredAt: Int64?
    /// Events accepted between releases: large enough with several workers that starting
    /// and joining them is a small part of a batch's work.
    private let releaseBatchSize: Int
    private var progress: ProgressLine?
    /// The layout of the records the late file holds last, as `LateLayout.code` (nil: none
    /// yet, or not known): the next late record from an input of another layout starts a
    /// new block (see `writeLate`). Checkpoints keep it, so a resumed run continues the block.
    private var lateLayout: Int64?
    /// The layout of the input being read.
    private var readingLayout = LateLayout.jsonLines
    private let checkpoints: CheckpointSchedule?
    /// `checkpoints != nil`, tested per record: the test of the optional itself copied the
    /// schedule (64 bytes) to the stack first.
    private let takesCheckpoints: Bool
    private let resumePoint: ResumePoint?
    /// Where every input read so far (in this run or, resumed, in earlier ones) stands.
    private var sources: [SourceOffset] = []
    private var eventsSinceCheckpoint: Int64 = 0
    private var secondsAtCheckpoint: Double = 0
    private var clock = Stopwatch()
    private(set) var lastCheckpointID: Int?

    /// `backends[i]` holds the state of keyed worker i's key groups (`KeyGroups.keyGroupRange`
    /// for `backends.count` workers).
    init(
        plan: JobPlan, backends: [Backend], options: RunOptions,
        output: ByteSink, lateOutput: ByteSink? = nil, deadLetters: ByteSink? = nil,
        checkpoints: CheckpointSchedule?, resume: ResumePoint?
    ) {
        self.checkpoints = checkpoints
        takesCheckpoints = checkpoints != nil
        resumePoint = resume
        self.plan = plan
        self.options = options
        workers = KeyedWorkers(plan: plan, backends: backends, format: options.outputFormat)
        releaseBatchSize = backends.count == 1 ? 256 : 1024
        windowFiring = plan.spec.emit.windows.map {
            WindowFiring(plan: plan, size: $0.size, slide: $0.slide, format: options.outputFormat)
        }
        sessionWindows = plan.spec.emit.sessionGap.map { SessionWindows(plan: plan, gap: $0, format: options.outputFormat) }
        if plan.spec.emit.isWindowed { summary.windows = 0 }
        encoder = EventEncoder(plan: plan, format: options.outputFormat)
        self.output = output
        self.lateOutput = lateOutput
        self.deadLetters = deadLetters
        // Waiting times reach past the watermark by its delay, and windowed jobs' fire times
        // (a window's end) by a window's length more.
        let (horizon, overflow) = plan.spec.watermark.microseconds.addingReportingOverflow(plan.spec.emit.windows?.size ?? 0)
        pending = PendingEvents(
            width: plan.fieldNames.count, horizon: overflow ? .max : horizon, granularity: plan.spec.timeUnit.microseconds)
        let acceptedKinds = Self.acceptedKinds(plan)
        firstTwoChecks = acceptedKinds.first.map { ($0, acceptedKinds.count > 1 ? acceptedKinds[1] : $0) }
        laterChecks = Array(acceptedKinds.dropFirst(2))
        watermarkBound = plan.spec.watermark.microseconds
        timeUnit = plan.spec.timeUnit.microseconds
        if case .all = plan.carry { carriesAllMembers = true } else { carriesAllMembers = false }
    }

    public convenience init(
        plan: JobPlan, backend: Backend, options: RunOptions,
        output: ByteSink, lateOutput: ByteSink? = nil, deadLetters: ByteSink? = nil
    ) {
        self.init(
            plan: plan, backends: [backend], options: options, output: output, lateOutput: lateOutput,
            deadLetters: deadLetters, checkpoints: nil, resume: nil)
    }

    /// Runs the job over `inputs` in order, as one stream, then drains: every buffered
    /// event is released as if the watermark had reached the end of time.
    public func run(_ inputs: [InputSource]) throws -> RunSummary {
        clock = Stopwatch()
        // A misspelt second file should fail the run before the first is processed, not
        // after, with its buffered events and summary lost.
        for case .file(let path) in inputs {
            if access(path, R_OK) != 0 {
                throw IOError("cannot open \(path): \(String(cString: strerror(errno)))")
            }
            // A directory opens, then fails its first read: say so before any input is read.
            var status = stat()
            if stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
                throw IOError("\(path): cannot read input: Is a directory (name the files in it)")
            }
        }
        if options.showProgress { progress = ProgressLine(totalBytes: totalSize(of: inputs)) }
        if let resumePoint { try restore(resumePoint) }
        let outputStarted = output.bytesWritten > 0 || (resumePoint?.outputCommitted ?? 0) > 0
        if !outputStarted, let header = encoder.header() { output.buffer.append(contentsOf: header) }
        if (lateOutput?.bytesWritten ?? 0) == 0 { lateLayout = nil }
        do {
            var bytesBefore: Int64 = 0
            for (index, input) in inputs.enumerated() {
                // Only the last input may still be growing: the others are read whole.
                let growing = !options.drain && index == inputs.count - 1
                bytesBefore += try read(input, bytesBefore: bytesBefore, clock: clock, growing: growing)
            }
            try release(upTo: options.drain ? Int64.max : watermark)
            if options.drain, maxEventTime > watermark {
                // Everything up to the newest time is out: a resumed run with more input
                // must take older events as late, or they would be applied out of order.
                watermark = maxEventTime
            }
            // A last cleanup at the final watermark, so what the run ends with does not
            // depend on when the earlier ones ran.
            expiredAt = nil
            try expireIfDue()
            summary.pending = eventsWaiting()
            try checkpoint(at: nil)
        } catch var stop as StopRequested {
            summary.pending = eventsWaiting()
            try finish(clock)
            stop.summary = summary
            throw stop
        } catch let stop as BadRecordStop {
            // Stop at the bad record, not earlier: what the watermark had passed is emitted.
            try releaseReady()
            summary.pending = eventsWaiting()
            try finish(clock)
            throw BadRecordStop(message: stop.message, summary: summary)
        }
        try finish(clock)
        return summary
    }

    private func finish(_ clock: Stopwatch) throws {
        progress?.clear()
        try output.flush()
        try lateOutput?.flush()
        try deadLetters?.flush()
        // With checkpoints, the last one holds the state already.
        if checkpoints == nil { try Backend.persist(workers.backends, buffered: bufferedEvents()) }
        summary.keys = workers.keyCount
        summary.elapsedSeconds = clock.elapsedSeconds
        if options.exitsAfterRun {
            for backend in workers.backends { _ = Unmanaged.passRetained(backend.states) }
        }
    }

    /// Takes a checkpoint when one is due: every `--checkpoint-every` events or seconds.
    @inline(__always)
    private func checkpointIfDue(_ reader: RecordReader, _ input: InputSource, csvHeader: String?) throws {
        guard let checkpoints else { return }
        eventsSinceCheckpoint += 1
        if let every = checkpoints.everyEvents, eventsSinceCheckpoint >= every {
            try checkpoint(at: position(of: reader, input, csvHeader: csvHeader, finished: false))
        } else if let every = checkpoints.everySeconds, eventsSinceCheckpoint & 0xFFF == 0,
                  clock.elapsedSeconds - secondsAtCheckpoint >= every {
            try checkpoint(at: position(of: reader, input, csvHeader: csvHeader, finished: false))
        }
    }

    /// On SIGINT or SIGTERM: a checkpoint at the current record, then stop.
    @inline(__always)
    private func stopIfRequested(_ reader: RecordReader, _ input: InputSource, csvHeader: String?) throws {
        guard let signal = requestedStop() else { return }
        try release(upTo: watermark)
        try checkpoint(at: position(of: reader, input, csvHeader: csvHeader, finished: false))
        throw StopRequested(signal: signal, checkpointID: lastCheckpointID, summary: summary)
    }

    private func position(of reader: RecordReader, _ input: InputSource, csvHeader: String?, finished: Bool) -> SourceOffset {
        let last = reader.lastRecordFingerprint()
        return SourceOffset(
            name: input.checkpointName, offset: reader.next.offset, line: reader.next.line,
            fingerprintOffset: last?.offset ?? 0, fingerprintLength: last?.length ?? 0, fingerprint: last?.crc32c ?? 0,
            finished: finished, csvHeader: csvHeader)
    }

    /// Records `source` as where its input stands, replacing an earlier position.
    private func note(_ source: SourceOffset) {
        if let index = sources.firstIndex(where: { $0.name == source.name }) {
            sources[index] = source
        } else {
            sources.append(source)
        }
    }

    /// Writes a checkpoint (when the run takes them) with `current` as the position of the
    /// input being read: outputs synced first, so the lengths it records are on disk.
    private func checkpoint(at current: SourceOffset?) throws {
        guard let checkpoints else { return }
        if let current { note(current) }
        try output.sync()
        try lateOutput?.sync()
        try deadLetters?.sync()
        var outputs = [OutputLength(role: "output", path: output.name, length: output.bytesWritten + Int64(output.holdsUntilReleased ? output.buffer.count : 0))]
        if let lateOutput { outputs.append(OutputLength(role: "late", path: lateOutput.name, length: lateOutput.bytesWritten)) }
        if let deadLetters { outputs.append(OutputLength(role: "dead-letter", path: deadLetters.name, length: deadLetters.bytesWritten)) }
        var counters: [String: Int64] = [
            "read": summary.read, "emitted": summary.emitted, "late": summary.late, "rejected": summary.rejected,
            "watermark": watermark, "maxEventTime": maxEventTime, "keys": Int64(workers.keyCount),
        ]
        if let lateLayout { counters["lateLayout"] = lateLayout }
        // Held stdout (`--exactly-once`): the checkpoint keeps the records it covers, and
        // they are written once it has committed.
        let held = output.holdsUntilReleased ? output.buffer.array : []
        lastCheckpointID = try checkpoints.take(
            RunPosition(counters: counters, sources: sources, outputs: outputs), bufferedEvents(), held)
        if output.holdsUntilReleased, let id = lastCheckpointID {
            try checkpoints.heldOutputRelease(id, .writing(size: output.regularFileSize()))
            try output.releaseHeld()
            // On disk before they are marked written: after a power loss, a resume must
            // write again what a file redirected from stdout lost.
            try output.sync()
            try checkpoints.heldOutputRelease(id, .written)
        }
        eventsSinceCheckpoint = 0
        secondsAtCheckpoint = clock.elapsedSeconds
    }

    /// Continues from a checkpoint: its counters, watermark, input positions, and the
    /// events it had buffered.
    private func restore(_ point: ResumePoint) throws {
        summary.read = point.counters["read"] ?? 0
        summary.emitted = point.counters["emitted"] ?? 0
        summary.late = point.counters["late"] ?? 0
        summary.rejected = point.counters["rejected"] ?? 0
        watermark = point.counters["watermark"] ?? .min
        maxEventTime = point.counters["maxEventTime"] ?? .min
        lateLayout = point.counters["lateLayout"]
        sources = point.sources
        // In arrival order, as they first arrived (open sessions keep their events in the
        // order they were added; the pending queue orders by time, then arrival, either way).
        for event in point.buffered.sorted(by: { $0.sequence < $1.sequence }) {
            do {
                var (eventValues, members) = try BufferedEventCodec.decode(event.bytes, width: pending.width)
                let key = workers.key(of: eventValues)
                if let sessionWindows, event.time <= watermark {
                    // An open session's event: back to its session, not to the watermark's queue.
                    sessionWindows.add(key: key.text, .init(time: event.time, sequence: event.sequence, keyHash: key.hash, values: eventValues))
                    continue
                }
                pending.insert(
                    time: event.time, sequence: event.sequence, keyHash: key.hash, values: &eventValues,
                    members: carriesAllMembers ? members : nil)
            } catch {
                throw IOError("checkpoint \(point.checkpointID): a buffered event is \(error)")
            }
        }
    }

    /// The events waiting for the watermark, as the state backend persists them: each filed
    /// under its key's key group, its bytes the plan's field values (and, for `carry: ["*"]`,
    /// every input column) in the state format.
    private func bufferedEvents() -> [BufferedEvent] {
        var writer = StateWriter()
        let maxParallelism = UInt64(plan.spec.maxParallelism)
        // The key hash taken when each event arrived gives its key group.
        let sessionEvents = (sessionWindows?.openEvents ?? []).map { event in
            writer.removeAll()
            event.values.withUnsafeBufferPointer { BufferedEventCodec.encode(values: $0, members: [], to: &writer) }
            return BufferedEvent(
                keyGroup: Int(event.keyHash % maxParallelism), time: event.time, sequence: event.sequence, bytes: writer.bytes)
        }
        return sessionEvents + pending.waiting.map { entry in
            let base = entry.slot * pending.width
            writer.removeAll()
            return pending.withValues { values in
                BufferedEventCodec.encode(
                    values: UnsafeBufferPointer(rebasing: values[base..<base + pending.width]),
                    members: pending.members.isEmpty ? [] : pending.members[entry.slot], to: &writer)
                return BufferedEvent(
                    keyGroup: Int(pending.keyHash(ofSlot: entry.slot) % maxParallelism), time: entry.time, sequence: entry.sequence,
                    bytes: writer.bytes)
            }
        }
    }

    /// Reads one input to its end; returns the bytes read. A `growing` input (the last, in a
    /// run that will be resumed) keeps a last line without its newline for the resumed run.
    private func read(_ input: InputSource, bytesBefore: Int64, clock: Stopwatch, growing: Bool) throws -> Int64 {
        let descriptor: Int32
        switch input {
        case .standardInput: descriptor = 0
        case .file(let path):
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw IOError("cannot open \(path): \(String(cString: strerror(errno)))")
            }
        }
        defer { if descriptor != 0 { close(descriptor) } }
        let format = options.inputFormat ?? input.inferredFormat
        // Resumed: continue where the checkpoint left this input (a finished file too: it
        // may have grown; a replayed stdin may go on past what was read).
        let start = sources.first { $0.name == input.checkpointName }
        if let start, start.offset > 0 {
            do {
                try RecordReader.position(
                    descriptor, at: start.offset, fingerprintOffset: start.fingerprintOffset,
                    length: start.fingerprintLength, fingerprint: start.fingerprint)
            } catch {
                throw IOError("\(input.name): \(error.message)")
            }
        }
        let reader = RecordReader(
            fileDescriptor: descriptor, format: format,
            startingAt: start.map { ReadPosition(offset: $0.offset, line: $0.line) } ?? .beginning,
            readsUnterminatedLastRecord: !growing)
        var csvHeader = start?.csvHeader
        readingLayout = csvHeader.map { .csv(header: Array($0.utf8)) } ?? .jsonLines
        do {
            switch format {
            case .jsonl:
                try readJSONLines(reader, input, bytesBefore: bytesBefore, clock: clock)
            case .csv:
                var scanner: CSVRecordScanner?
                if let csvHeader, reader.next.offset > 0 {
                    scanner = try Array(csvHeader.utf8).withUnsafeBytes { try csvScanner(header: $0) }
                }
                try reader.forEachRecord(afterChunk: { try inputPaused(reader, input, csvHeader: csvHeader) }) { record, line, offset in
                    guard scanner != nil else {
                        scanner = try csvScanner(header: record, line: line, offset: offset)
                        csvHeader = String(decoding: record, as: UTF8.self)
                        readingLayout = .csv(header: Array(record))
                        writeLateHeaderFirst()
                        return true
                    }
                    try handle(record, scanner: &scanner!, input: input, line: line, offset: offset)
                    try pollEvery64Records(reader, input, bytesBefore: bytesBefore, clock: clock, csvHeader: csvHeader)
                    try checkpointIfDue(reader, input, csvHeader: csvHeader)
                    return true
                }
            }
        } catch let error as IOError where !error.namesItsFile {
            // The reader knows bytes, not names: say which input failed.
            throw IOError("\(input.name): \(error.message)")
        }
        note(position(of: reader, input, csvHeader: csvHeader, finished: true))
        summary.unreadTailBytes += Int64(reader.unreadTailBytes)
        return reader.bytesRead
    }

    /// The records of a JSON Lines input. They are pulled here rather than handed to a
    /// closure (as CSV's are): the record loop and `handle` are one function, without a call
    /// and two forwarding thunks per record. A function of its own: the optimizer inlines a
    /// function of over 64 blocks, as `handle` is, `@inline(__always)` or not, only into a
    /// caller of fewer, which `read` is not.
    private func readJSONLines(_ reader: RecordReader, _ input: InputSource, bytesBefore: Int64, clock: Stopwatch) throws {
        var scanner = JSONObjectScanner(fieldNames: plan.fieldNames, captureAllMembers: carriesAllMembers)
        repeat {
            while true {
                // Read straight into the slot where the event waits for the watermark; a
                // record that is not queued leaves the slot to the next one.
                let slotValues = pending.reserveSlot()
                let record: UnsafeRawBufferPointer, line: Int, offset: Int64
                var accepted = true
                // A record laid out as the last one is read where it lies, its end found by
                // reading it; any other is split off at its newline first, then read.
                if let newline = scanner.scanLine(reader.unreadBytes, into: slotValues) {
                    (record, line, offset) = reader.takeRecord(newlineAt: newline)
                } else if let next = try nextRecordSplit(reader, &scanner, into: slotValues, input: input) {
                    (record, line, offset, accepted) = next
                } else {
                    break
                }
                if accepted {
                    try handle(record, slotValues, members: scanner.members, input: input, line: line, offset: offset)
                }
                try pollEvery64Records(reader, input, bytesBefore: bytesBefore, clock: clock, csvHeader: nil)
                if takesCheckpoints { try checkpointIfDue(reader, input, csvHeader: nil) }
            }
        } while try reader.readMore(afterChunk: { try inputPaused(reader, input, csvHeader: nil) })
    }

    /// The next record in `reader`'s buffer split off at its newline, and read into
    /// `slotValues`: rejected here when it has a problem (`accepted` false); nil when the
    /// buffer holds no whole record. Out of line: few records take this way. The problem is
    /// not handed back: an optional problem that the read loop held released it (nil) after
    /// every record, a runtime call.
    @inline(never)
    private func nextRecordSplit(
        _ reader: RecordReader, _ scanner: inout JSONObjectScanner, into slotValues: UnsafeMutableBufferPointer<FieldValue>,
        input: InputSource
    ) throws -> (record: UnsafeRawBufferPointer, line: Int, offset: Int64, accepted: Bool)? {
        guard let (record, line, offset) = reader.nextBufferedRecord() else { return nil }
        guard let problem = scanner.scan(record, into: slotValues) else { return (record, line, offset, true) }
        summary.read += 1
        try reject(record, problem.message, input: input, line: line, offset: offset + Int64(problem.offset))
        return (record, line, offset, false)
    }

    /// Every 64 records: a stop request, and the progress line (every 16,384). Polled per
    /// record, the stop signal was a C call and the progress a test of its own (~8
    /// instructions an event); 64 records take well under a millisecond, and a stop is also
    /// looked for before every read, which may block (`inputPaused`).
    @inline(__always)
    private func pollEvery64Records(
        _ reader: RecordReader, _ input: InputSource, bytesBefore: Int64, clock: Stopwatch, csvHeader: String?
    ) throws {
        guard summary.read & 0x3F == 0 else { return }
        if summary.read & 0x3FFF == 0, progress != nil {
            progress?.update(events: summary.read, bytes: bytesBefore + reader.bytesRead, clock: clock)
        }
        try stopIfRequested(reader, input, csvHeader: csvHeader)
    }

    /// Before a read that may block (a pipe from `tail -f`): release what the watermark
    /// allows and hand the output on, so a slow stream is not held back by batching.
    private func inputPaused(_ reader: RecordReader, _ input: InputSource, csvHeader: String?) throws {
        try stopIfRequested(reader, input, csvHeader: csvHeader)
        // A slow stream may not reach the per-record clock check for a long time.
        if let every = checkpoints?.everySeconds, eventsSinceCheckpoint > 0,
           clock.elapsedSeconds - secondsAtCheckpoint >= every {
            try checkpoint(at: position(of: reader, input, csvHeader: csvHeader, finished: false))
        }
        try releaseReady()
        try output.flush()
        try lateOutput?.flush()
        try deadLetters?.flush()
    }

    /// The scanner of the records under `header`, which starts at `line` and stream offset
    /// `offset` (after blank lines, the header is not on line 1).
    private func csvScanner(header: UnsafeRawBufferPointer, line: Int = 1, offset: Int64 = 0) throws -> CSVRecordScanner {
        switch CSVRecordScanner.parseHeader(header) {
        case .success(let columns):
            if let missing = missingColumn(in: columns) {
                throw IOError("line \(line): bad CSV header: \(missing)")
            }
            return CSVRecordScanner(columns: columns, fieldNames: plan.fieldNames, captureAllMembers: carriesAllMembers)
        case .failure(let problem):
            throw IOError("line \(line) (byte \(offset + Int64(problem.offset))): bad CSV header: \(problem.message)")
        }
    }

    /// A key or time column the job needs that a CSV header lacks, said with the header's
    /// columns and the likely fix: without it every row would be rejected, one by one.
    private func missingColumn(in columns: [String]) -> String? {
        let needed = plan.spec.keys.map { ($0, "a key") } + (plan.spec.time.map { [($0, "the time")] } ?? [])
        guard let (name, role) = needed.first(where: { columns.firstIndex(ofExact: $0.0) == nil }) else { return nil }
        let listed = columns.map(JSONText.quote).joined(separator: ", ")
        var message = "no column \(JSONText.quote(name)) (\(role) of the job); its columns are \(listed)"
        func trimmed(_ column: String) -> Substring {
            let front = column.drop(while: \.isWhitespace)
            return front.dropLast(front.reversed().prefix(while: \.isWhitespace).count)
        }
        if let spaced = columns.first(where: { trimmed($0) == name }) {
            message += "; \(JSONText.quote(spaced)) has spaces around it, which CSV keeps: remove them"
        } else if let near = Suggest.closest(to: name, in: columns) {
            message += "; did you mean \(JSONText.quote(near))?"
        }
        return message
    }

    /// One record: parse, check, then apply now (arrival order), buffer, or set aside as late.
    @inline(__always)
    private func handle<Scanner: RecordScanning>(
        _ record: UnsafeRawBufferPointer, scanner: inout Scanner, input: InputSource, line: Int, offset: Int64
    ) throws {
        // Read straight into the slot where the event waits for the watermark; a record that
        // is not queued leaves the slot to the next one.
        let slotValues = pending.reserveSlot()
        if let problem = scanner.scan(record, into: slotValues) {
            summary.read += 1
            return try reject(record, problem.message, input: input, line: line, offset: offset + Int64(problem.offset))
        }
        try handle(record, slotValues, members: scanner.members, input: input, line: line, offset: offset)
    }

    /// One record read into `slotValues` (from `pending.reserveSlot()`): check, then apply now
    /// (arrival order), buffer, or set aside as late.
    /// `@inline(always)`: its two callers are large, and as a call (the hint
    /// `@inline(__always)` is not followed past 64 blocks) it cost ~75 instructions an event.
    @inline(always)
    private func handle(
        _ record: UnsafeRawBufferPointer, _ slotValues: UnsafeMutableBufferPointer<FieldValue>,
        members: @autoclosure () -> [(name: String, value: FieldValue)], input: InputSource, line: Int, offset: Int64
    ) throws {
        // Wrapping: records number far fewer than 2^63 (an overflow check per record).
        summary.read &+= 1
        let values = UnsafeBufferPointer(slotValues)
        if let reason = checkKeysAndNumbers(values) {
            return try reject(record, reason, input: input, line: line, offset: offset)
        }
        guard let timeSlot = plan.timeSlot else {
            // Arrival order: each event is a batch of its own, applied and emitted at once.
            try workers.emitNow(values: values, members: members(), to: output.buffer)
            summary.emitted += 1
            return try output.flushIfFull()
        }
        let time: Int64
        // Its bucket in the pending queue.
        let bucket: Int64
        if values[timeSlot].kind == .number, let integer = values[timeSlot].integer,
           case (let scaled, false) = integer.multipliedReportingOverflow(by: timeUnit), scaled != .min {
            // The common case of `eventTime`, reading the value in place instead of copying it.
            time = scaled
            bucket = pending.bucket(ofTime: scaled, inUnits: integer)
        } else {
            switch eventTime(values[timeSlot]) {
            case .success(let microseconds): time = microseconds
            case .failure(let problem):
                return try reject(record, problem.message, input: input, line: line, offset: offset)
            }
            bucket = pending.bucket(of: time)
        }
        if let sessionWindows, time <= watermark {
            // Behind the watermark: first release and fire what it passed, so that only sessions
            // still open are left to join, whatever the release cadence. (A release adds no
            // slot to the pending arena, so `values` stays where it is.)
            try release(upTo: watermark)
            let key = workers.canonicalKey(values, base: 0)
            if sessionWindows.accepts(key: key, time: time, watermark: watermark) {
                sessionWindows.add(
                    key: key, .init(time: time, sequence: summary.read, keyHash: KeyGroups.stableHash(ofKey: key), values: Array(values)))
                return
            }
        }
        if let windowFiring {
            // Windowed: buffered once per window that has not fired, under its fire time.
            let windowFireTimes = windowFiring.unfiredWindows(of: time, after: watermark)
            guard let lastFireTime = windowFireTimes.last else { return try setAsideLate(record) }
            let keyHash = workers.keyHash(values, base: 0)
            // The reserved slot is queued first: the copies' slots may move the arena.
            let copies = windowFireTimes.count > 1 ? Array(values) : []
            pending.insertReserved(time: lastFireTime, sequence: summary.read, keyHash: keyHash, members: nil)
            for fireTime in windowFireTimes.dropLast() {
                var copy = copies
                pending.insert(time: fireTime, sequence: summary.read, keyHash: keyHash, values: &copy, members: nil)
            }
        } else {
            // Kept apart from the windowed path: sharing its optional array of fire times, the
            // other jobs tested and kept that array on every event (~30 instructions an event).
            if time <= watermark { return try setAsideLate(record) }
            let keyHash = workers.keyHash(values, base: 0)
            if carriesAllMembers {
                pending.insertReserved(time: time, bucket: bucket, sequence: summary.read, keyHash: keyHash, members: members())
            } else {
                // A literal nil: chosen by a conditional, the members were released after
                // queueing, a runtime call per event (card job: -16 instructions per event).
                pending.insertReserved(time: time, bucket: bucket, sequence: summary.read, keyHash: keyHash, members: nil)
            }
        }
        if time > maxEventTime {
            maxEventTime = time
            let (lowered, overflow) = time.subtractingReportingOverflow(watermarkBound &+ 1)
            let next = overflow ? Int64.min : lowered
            if next > watermark { watermark = next }
        }
        try releaseIfBatchIsFull()
    }

    /// A record whose time is at or behind the watermark (in every window it falls in): counted,
    /// and written to the late output if there is one.
    @inline(never)
    private func setAsideLate(_ record: UnsafeRawBufferPointer) throws {
        summary.late += 1
        if let lateOutput {
            writeLate(record, to: lateOutput)
            try lateOutput.flushIfFull()
        }
    }

    private static func acceptedKinds(_ plan: JobPlan) -> [(slot: Int, kinds: UInt8)] {
        func bits(_ kinds: ValueKind...) -> UInt8 { kinds.reduce(0) { $0 | 1 << $1.rawValue } }
        var accepted: [Int: UInt8] = [:]
        for slot in plan.keySlots { accepted[slot, default: 0xFF] &= bits(.string, .number) }
        for slot in plan.numericSlots { accepted[slot, default: 0xFF] &= bits(.number, .missing, .null) }
        return accepted.sorted { $0.key < $1.key }.map { (slot: $0.key, kinds: $0.value) }
    }

    /// A record is usable only with every key present as a string or number, and numbers
    /// where numeric operators read; otherwise it is rejected whole, before any state changes.
    @inline(__always)
    private func checkKeysAndNumbers(_ values: UnsafeBufferPointer<FieldValue>) -> String? {
        // Nearly every record passes: one masked test per checked slot, and the reason only
        // for a record that fails one. A masking shift: kinds number fewer than 8, and `<<`
        // tested the amount against the width first.
        guard let (first, second) = firstTwoChecks else { return nil }
        let passes = (1 &<< values[first.slot].kind.rawValue) & first.kinds != 0
            && (1 &<< values[second.slot].kind.rawValue) & second.kinds != 0
            && (laterChecks.isEmpty || laterChecks.withUnsafeBufferPointer { checks in
                checks.allSatisfy { (1 &<< values[$0.slot].kind.rawValue) & $0.kinds != 0 }
            })
        return passes ? nil : badColumnReason(values)
    }

    /// What makes a record that `checkKeysAndNumbers` refuses unusable: the first key that is
    /// missing or neither a string nor a number, else the first numeric field that is not a
    /// number.
    @inline(never)
    private func badColumnReason(_ values: UnsafeBufferPointer<FieldValue>) -> String? {
        for (index, slot) in plan.keySlots.enumerated() {
            let kind = values[slot].kind
            switch kind {
            case .string, .number: continue
            case .missing: return "missing key column \"\(plan.spec.keys[index])\""
            default:
                return "key column \"\(plan.spec.keys[index])\" is \(describe(kind)); keys must be strings or numbers"
            }
        }
        for slot in plan.numericSlots {
            let kind = values[slot].kind
            if kind == .number || kind == .missing || kind == .null { continue }
            let readers = plan.features.filter { $0.fieldSlot == slot && $0.needsNumbers }.map { "\($0.name) (\($0.spec.op.rawValue))" }
            let what = kind == .string && Self.isOutOfRangeNumber(values[slot].text) ? "\(values[slot].text), a number past a double's range" : describe(kind)
            return "column \"\(plan.fieldNames[slot])\" is \(what), but \(readers.joined(separator: ", ")) needs a number"
        }
        return nil
    }

    /// Whether a string value is a CSV cell written as a number too large for a double
    /// (`1e309`): CSV reads such a cell as text, and the message should say why.
    private static func isOutOfRangeNumber(_ quoted: String) -> Bool {
        var text = quoted
        return text.withUTF8 { bytes in
            guard bytes.count > 2, let base = bytes.baseAddress else { return false }
            // A number's grammar whose value does not parse: only an overflow does that
            // (a JSON string "5" parses, and stays a string).
            return NumberText.shape(base + 1, bytes.count - 2) != nil
                && NumberText.parse(UnsafeRawBufferPointer(start: base + 1, count: bytes.count - 2)) == nil
        }
    }

    /// Event time in microseconds from an epoch number in the job's unit or an RFC 3339 string.
    private func eventTime(_ value: FieldValue) -> Result<Int64, RecordProblem> {
        let column = plan.spec.time ?? ""
        switch value.kind {
        case .missing, .null:
            return .failure(RecordProblem(offset: 0, message: "missing time column \"\(column)\""))
        case .number:
            if let integer = value.integer {
                // Int64.min µs is the watermark before any event: no event may carry it.
                let (scaled, overflow) = integer.multipliedReportingOverflow(by: timeUnit)
                if !overflow, scaled != .min { return .success(scaled) }
            } else {
                // Nearest microsecond: 1.001 ms is 1000.9999999 µs in binary floating point.
                let scaled = (value.number * Double(timeUnit)).rounded()
                if scaled.magnitude < 9e18 { return .success(Int64(scaled)) }
            }
            return .failure(RecordProblem(
                offset: 0,
                message: "time column \"\(column)\" is out of range: \(value.text) (\(plan.spec.timeUnit.rawValue)); event times must lie within about 292,000 years of 1970"))
        case .string:
            var text = value.text
            let parsed = text.withUTF8 { bytes in
                RFC3339.parseMicroseconds(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes).dropFirst().dropLast()))
            }
            if let parsed { return .success(parsed) }
            if RFC3339.isLeapSecond(text.utf8.dropFirst().dropLast()) {
                return .failure(RecordProblem(
                    offset: 0,
                    message: "time column \"\(column)\" is \(value.text), a leap second: Unix time has none; write the second before it (:59.999999) or after it"))
            }
            return .failure(RecordProblem(
                offset: 0,
                message: "time column \"\(column)\" is \(value.text), neither an epoch number (\(plan.spec.timeUnit.rawValue)) nor an RFC 3339 time like \"2024-03-01T12:00:00Z\""))
        default:
            return .failure(RecordProblem(offset: 0, message: "time column \"\(column)\" is \(describe(value.kind)), not a time"))
        }
    }

    /// Releases what the watermark has passed, once enough has been buffered since the last
    /// release (or when input pauses or ends).
    ///
    /// Releasing in batches changes neither order nor results, which depend only on (time,
    /// arrival), but it lets `release` look up a whole batch's rows before applying any: one
    /// key's lookups are a chain of dependent cache misses, many keys' lookups overlap.
    @inline(__always)
    private func releaseIfBatchIsFull() throws {
        // Wrapping: reset at every release, it stays far below 2^63.
        insertsSinceRelease &+= 1
        if insertsSinceRelease >= releaseBatchSize { try releaseReady() }
    }

    private func releaseReady() throws {
        insertsSinceRelease = 0
        try release(upTo: watermark)
        try expireIfDue()
    }

    /// With a TTL: every half TTL of watermark progress, removes the state of keys not
    /// updated for longer than the TTL before the watermark. Results never depend on when
    /// this runs: an event that could still reach such a key has a later time than the
    /// watermark, so it would find the key expired anyway.
    private func expireIfDue() throws {
        guard let ttl = plan.spec.ttl?.microseconds, watermark != .min else { return }
        if let expiredAt, watermark &- expiredAt < max(ttl / 2, 1) { return }
        expiredAt = watermark
        let (cutoff, overflow) = watermark.subtractingReportingOverflow(ttl)
        guard !overflow else { return }
        for backend in workers.backends { _ = try backend.expire(before: cutoff) }
    }

    /// Releases, in (time, arrival) order, every buffered event with time <= `watermark`.
    private func release(upTo watermark: Int64) throws {
        pending.takeReady(upTo: watermark, into: &batch)
        defer { fireSessions(upTo: watermark) }
        guard !batch.isEmpty else { return }
        if let sessionWindows {
            pending.withValues { values in
                let canonicalKey = workers.canonicalKey
                for entry in batch {
                    let base = entry.slot * pending.width
                    sessionWindows.add(
                        key: canonicalKey(values, base),
                        .init(time: entry.time, sequence: entry.sequence, keyHash: pending.keyHash(ofSlot: entry.slot),
                              values: Array(values[base..<base + pending.width])))
                }
            }
            for entry in batch { pending.free(slot: entry.slot) }
        } else if let windowFiring {
            let fired = pending.withValues { values in
                windowFiring.fire(
                    batch, values: values, width: pending.width, canonicalKey: workers.canonicalKey,
                    eventTime: acceptedEventTime, to: output.buffer)
            }
            for entry in batch { pending.free(slot: entry.slot) }
            summary.emitted += Int64(fired.events)
            summary.windows? += Int64(fired.windows)
        } else {
            try workers.release(batch, from: pending, carryingAll: carriesAllMembers, to: output.buffer)
            summary.emitted += Int64(batch.count)
        }
        try output.flushIfFull()
    }

    /// Session jobs: writes every session the watermark closed.
    private func fireSessions(upTo watermark: Int64) {
        guard let sessionWindows else { return }
        let fired = sessionWindows.fire(upTo: watermark, to: output.buffer)
        summary.emitted += Int64(fired.events)
        summary.windows? += Int64(fired.windows)
    }

    /// The time of an event that was accepted, so whose time column parses.
    private func acceptedEventTime(_ value: FieldValue) -> Int64 {
        if case .success(let time) = eventTime(value) { return time }
        preconditionFailure("an accepted event's time no longer parses")
    }

    /// Events accepted and not yet emitted. A windowed job buffers an event once per window
    /// still open; it counts once, under the last of them.
    private func eventsWaiting() -> Int64 {
        if let sessionWindows { return Int64(pending.count + sessionWindows.eventCount) }
        guard let windowFiring, let timeSlot = plan.timeSlot else { return Int64(pending.count) }
        return pending.withValues { values in
            Int64(pending.waiting.count { windowFiring.lastFireTime(of: acceptedEventTime(values[$0.slot * pending.width + timeSlot])) == $0.time })
        }
    }

    private func reject(
        _ record: UnsafeRawBufferPointer, _ reason: String, input: InputSource, line: Int, offset: Int64
    ) throws {
        summary.rejected += 1
        if let deadLetters {
            var entry = "{\"source\":" + JSONText.quote(input.name) + ",\"line\":\(line),\"offset\":\(offset),\"reason\":"
            entry += JSONText.quote(reason) + ",\"record\":"
            entry += JSONText.quote(String(decoding: record, as: UTF8.self)) + "}\n"
            deadLetters.buffer.appendUTF8(entry)
            try deadLetters.flushIfFull()
        }
        if options.onBadRecord == .fail {
            throw BadRecordStop(message: "\(input.name):\(line) (byte \(offset)): \(reason)", summary: summary)
        }
    }

    /// Late records keep their input format. A CSV input's header goes first when the late
    /// file is still empty, late events or not, so that a CSV run's late file always reads
    /// as CSV.
    private func writeLateHeaderFirst() {
        guard let lateOutput, lateLayout == nil, lateOutput.bytesWritten + Int64(lateOutput.buffer.count) == 0 else { return }
        startLateBlock(in: lateOutput)
    }

    /// Appends a late record. Inputs of different layouts (JSON Lines and CSV, or CSVs with
    /// different headers) each get a block of their own, as Miller's csvlite writes a
    /// schema change: a blank line, then the new header; rows are never written under
    /// another input's header.
    private func writeLate(_ record: UnsafeRawBufferPointer, to lateOutput: ByteSink) {
        if lateLayout != readingLayout.code { startLateBlock(in: lateOutput) }
        lateOutput.buffer.append(record)
        lateOutput.buffer.append(UInt8(ascii: "\n"))
    }

    private func startLateBlock(in lateOutput: ByteSink) {
        if lateOutput.bytesWritten + Int64(lateOutput.buffer.count) > 0 { lateOutput.buffer.append(UInt8(ascii: "\n")) }
        if case .csv(let header) = readingLayout {
            lateOutput.buffer.append(contentsOf: header)
            lateOutput.buffer.append(UInt8(ascii: "\n"))
        }
        lateLayout = readingLayout.code
    }

    private func totalSize(of inputs: [InputSource]) -> Int64? {
        var total: Int64 = 0
        for input in inputs {
            var info = stat()
            let status: Int32
            switch input {
            case .standardInput: status = fstat(0, &info)
            case .file(let path): status = stat(path, &info)
            }
            guard status == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            total += Int64(info.st_size)
        }
        return total
    }
}

/// How an input's records are laid out, as the late file copies them.
enum LateLayout: Equatable {
    case jsonLines
    case csv(header: [UInt8])

    /// 0 for JSON Lines, a CSV header's 64-bit FNV-1a hash (never 0) otherwise: what a
    /// checkpoint keeps of the late file's last block (its counters are integers).
    var code: Int64 {
        guard case .csv(let header) = self else { return 0 }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in header { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return Int64(bitPattern: hash | 1)
    }
}

/// A parser of one input format that fills the plan's field slots from one record.
protocol RecordScanning {
    mutating func scan(_ record: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<FieldValue>) -> RecordProblem?
    /// Every column of the last record, when capturing all members for `carry: ["*"]`.
    var members: [(name: String, value: FieldValue)] { get }
}

extension JSONObjectScanner: RecordScanning {}
extension CSVRecordScanner: RecordScanning {}

func describe(_ kind: ValueKind) -> String {
    switch kind {
    case .missing: "missing"
    case .null: "null"
    case .bool: "a boolean"
    case .number: "a number"
    case .string: "a string"
    case .json: "an object or array"
    }
}
