import ArgumentParser
import Eddy
import Glibc

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Read the keyed state a checkpoint holds, offline: one JSON object per key.",
        discussion: """
            Each line: {"key":{COLUMN:VALUE,...},"key_group":N,"last_update":TIME,"features":{NAME:VALUE,...}}, \
            feature values as the key's last output record wrote them. The job spec comes from the \
            checkpoint; the checkpoint is verified first and never modified.
            """,
        subcommands: [Get.self, Dump.self]
    )

    /// `get` found the checkpoint readable but no state for the key.
    static let keyHasNoState = ExitCode(4)

    struct Detail: ParsableArguments {
        @Flag(help: #"Add "state_bytes":{NAME:BYTES,...}: each feature's bytes in the persisted row, to see which feature makes a key's state large."#)
        var stateBytes = false
    }

    struct Location: ParsableArguments {
        @Argument(help: "A checkpoint directory (e.g. eddy-checkpoints/card_velocity/chk-000003), or latest with --checkpoint-dir.")
        var checkpoint: String

        @Option(help: "With latest: the checkpoint directory of the job (as run's --checkpoint-dir); its newest checkpoint that verifies is read.")
        var checkpointDir: String?

        func validate() throws {
            if checkpoint == "latest", checkpointDir == nil {
                throw ValidationError("latest needs --checkpoint-dir DIR (e.g. eddy-checkpoints/card_velocity)")
            }
            if checkpoint != "latest", checkpointDir != nil {
                throw ValidationError("--checkpoint-dir goes with latest only; a checkpoint path names its directory already")
            }
        }

        /// The reader of the checkpoint named, or exit 1 with why it cannot be read.
        func open() throws -> CheckpointStateReader {
            // A rocksdb checkpoint is read from a temporary copy that the reader removes when
            // it goes: SIGINT, SIGTERM and a closed stdout must end the command through it,
            // not kill the process with the copy left behind (see `StateLines`).
            installStopHandlers()
            signal(SIGPIPE, SIG_IGN)
            do {
                let (path, skipped) = try CheckpointStateReader.locate(checkpoint, checkpointDirectory: checkpointDir)
                for note in skipped { writeToStandardError("eddy: skipped a damaged checkpoint: \(note)\n") }
                return try CheckpointStateReader(checkpoint: path)
            } catch {
                writeToStandardError("eddy: \(error.message)\n")
                throw ExitStatus.runtimeFailure
            }
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one key's state.",
            discussion: """
                VALUE is JSON text (42, "c-1", true); text that is not JSON is a string, so --key c-1 \
                is "c-1". A composite key takes one --key per column, in the spec's key order.
                Exit codes: 0 printed; 1 the checkpoint cannot be read or is damaged; 4 the \
                checkpoint holds no state for the key; 64 usage error (also: wrong number of --key).
                """)

        @OptionGroup var location: Location
        @OptionGroup var detail: Detail

        @Option(name: .customLong("key"), help: ArgumentHelp("One key column's value; repeat for composite keys.", valueName: "value"))
        var keyValues: [String] = []

        func validate() throws {
            if keyValues.isEmpty { throw ValidationError("give the key with --key VALUE (one per key column)") }
        }

        func run() throws {
            let reader = try location.open()
            let key: String
            do {
                key = try reader.canonicalKey(keyValues)
            } catch {
                // A usage error, but of the key rather than the command line's shape: the
                // message alone says what to fix.
                writeToStandardError("eddy: \(error.message)\n")
                throw ExitCode.validationFailure
            }
            let found: InspectedKey?
            do {
                found = try reader.state(ofKey: key)
            } catch {
                writeToStandardError("eddy: \(error.message)\n")
                throw ExitStatus.runtimeFailure
            }
            guard let found else {
                let shown = key.replacingOccurrences(of: "\u{1F}", with: ", ")
                writeToStandardError(
                    "eddy: \(reader.checkpoint) holds no state for key \(shown) (\(reader.plan.spec.keys.joined(separator: ", ")), key group \(reader.keyGroup(ofKey: key))): the key never had an event before the checkpoint, its state expired (ttl), or its events were still waiting for the watermark or a window; eddy state dump lists the keys it holds\n")
                throw StateCommand.keyHasNoState
            }
            let lines = StateLines()
            try lines.write(found.jsonLine(withStateBytes: detail.stateBytes))
            try lines.flush()
        }
    }

    /// What `dump` prints.
    enum Contents: String, ExpressibleByArgument, CaseIterable {
        /// Each key's features.
        case keys
        /// The events waiting for the watermark (open windows' and sessions' events).
        case buffered
    }

    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every key's state, in persisted order (key group, then key bytes).",
            discussion: """
                With --what buffered: the events waiting for the watermark instead, one per line, \
                {"key":{...},"key_group":N,"time":T,"sequence":S,"fields":{...}}, in persisted order \
                (key group, time, arrival); for windowed jobs, once per window not yet fired, under its \
                fire time.
                Exit codes: 0 printed (nothing for a checkpoint without such state); 1 the checkpoint \
                cannot be read or is damaged; 64 usage error.
                """)

        @OptionGroup var location: Location

        @Option(help: "keys (each key's features) or buffered (the events waiting for the watermark).")
        var what: Contents = .keys

        @OptionGroup var detail: Detail

        @Option(help: "Only the keys of this key group (0 to the checkpoint's maxParallelism - 1).")
        var keyGroup: Int?

        func run() throws {
            let reader = try location.open()
            let groups: ClosedRange<Int>?
            if let keyGroup {
                let count = reader.metadata.maxParallelism
                guard (0..<count).contains(keyGroup) else {
                    writeToStandardError("eddy: --key-group \(keyGroup): \(reader.checkpoint) has key groups 0 to \(count - 1)\n")
                    throw ExitCode.validationFailure
                }
                groups = keyGroup...keyGroup
            } else {
                groups = nil
            }
            do {
                let lines = StateLines()
                switch what {
                case .keys: try reader.forEachKey(inKeyGroups: groups) { try lines.write($0.jsonLine(withStateBytes: detail.stateBytes)) }
                case .buffered: try reader.forEachBufferedEvent(inKeyGroups: groups) { try lines.write($0.jsonLine) }
                }
                try lines.flush()
            } catch let stop as ExitCode {
                throw stop
            } catch let error as CheckpointError {
                writeToStandardError("eddy: \(error.message)\n")
                throw ExitStatus.runtimeFailure
            } catch {
                writeToStandardError("eddy: \(reader.checkpoint): \(error)\n")
                throw ExitStatus.runtimeFailure
            }
        }
    }
}

/// The lines `eddy state` prints, to stdout in 64 KiB writes, ending the command with an
/// exit code instead of a signal: 130 or 143 after SIGINT or SIGTERM, 141 (as a shell shows
/// SIGPIPE) when stdout's reader went away, as in `eddy state dump ... | head`.
private final class StateLines {
    private var buffer: [UInt8] = []

    func write(_ line: String) throws {
        try Self.stopIfAsked()
        buffer.append(contentsOf: line.utf8)
        buffer.append(10)
        if buffer.count >= 1 << 16 { try flush() }
    }

    func flush() throws {
        var written = 0
        while written < buffer.count {
            let count = buffer[written...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR, requestedStop() == nil { continue }
                // A write interrupted by a stop signal fails too: the signal says why.
                try Self.stopIfAsked()
                throw ExitCode(128 + SIGPIPE)
            }
            written += count
        }
        buffer.removeAll(keepingCapacity: true)
    }

    private static func stopIfAsked() throws {
        if let signal = requestedStop() { throw ExitCode(128 + signal) }
    }
}
