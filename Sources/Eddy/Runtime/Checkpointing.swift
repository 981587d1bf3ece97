import CEddySupport
import Foundation

/// How a run takes checkpoints (`--checkpoint-every`; one at the end of every run and on
/// SIGINT/SIGTERM), set up by `runJob` for a durable state backend.
struct CheckpointSchedule {
    var everyEvents: Int64?
    var everySeconds: Double?
    /// Writes a checkpoint of the backend's state, the buffered events and the runtime's
    /// position; returns its id.
    var take: (_ position: RunPosition, _ buffered: [BufferedEvent], _ heldOutput: [UInt8]) throws -> Int
    /// Records, in checkpoint `id`, the release of its held stdout records: `.writing`
    /// before they are written, `.written` after, so a resume knows whether to write them.
    var heldOutputRelease: (_ id: Int, _ step: HeldOutputRelease) throws -> Void
}

/// The runtime's side of a checkpoint: counters, where each input stands, and how much of
/// each output it covers.
struct RunPosition {
    var counters: [String: Int64]
    var sources: [SourceOffset]
    var outputs: [OutputLength]
}

/// What a resumed run continues from.
struct ResumePoint {
    var checkpointID: Int
    /// Bytes of the main output the checkpoint covers (a CSV header is among them).
    var outputCommitted: Int64
    var counters: [String: Int64]
    var sources: [SourceOffset]
    var buffered: [BufferedEvent]
}

/// The run stopped on SIGINT or SIGTERM after writing a checkpoint.
public struct StopRequested: Error, Sendable, CustomStringConvertible {
    public var signal: Int32
    public var checkpointID: Int?
    public var summary: RunSummary
    public var description: String {
        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
        return checkpointID.map { "stopped on \(name) after checkpoint \($0); continue with --resume latest" }
            ?? "stopped on \(name)"
    }
}

/// Stop signals are recorded from the first run on; the handler only sets a flag.
public func installStopHandlers() { eddy_install_stop_handlers() }

/// The stop signal received so far (after `installStopHandlers`), or nil.
@inline(__always)
public func requestedStop() -> Int32? {
    let signal = eddy_stop_signal()
    return signal == 0 ? nil : signal
}

/// A buffered event as the runtime persists it: the plan's field values, then (for
/// `carry: ["*"]`) every input column, in the state format.
enum BufferedEventCodec {
    static func encode(values: UnsafeBufferPointer<FieldValue>, members: [(name: String, value: FieldValue)], to writer: inout StateWriter) {
        writer.writeCount(values.count)
        for value in values { value.encode(to: &writer) }
        writer.writeCount(members.count)
        for member in members {
            writer.write(member.name)
            member.value.encode(to: &writer)
        }
    }

    static func decode(
        _ bytes: [UInt8], width: Int
    ) throws(StateFormatError) -> (values: [FieldValue], members: [(name: String, value: FieldValue)]) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(StateFormatError) in
                var reader = StateReader(raw)
                let count = try reader.readCount()
                guard count == width else {
                    throw StateFormatError("a buffered event has \(count) values, this job reads \(width) columns")
                }
                var values: [FieldValue] = []
                for _ in 0..<count { values.append(try FieldValue.decode(from: &reader)) }
                var members: [(name: String, value: FieldValue)] = []
                for _ in 0..<(try reader.readCount()) {
                    members.append((try reader.readString(), try FieldValue.decode(from: &reader)))
                }
                return (values, members)
            }
        }
        return try result.get()
    }
}

/// How far the release of a checkpoint's held stdout records got.
enum HeldOutputRelease: Equatable {
    /// About to be written; stdout (a regular file) had `size` bytes, nil for a pipe.
    case writing(size: Int64?)
    case written

    var text: String {
        switch self {
        case .writing(let size): "writing \(size.map(String.init) ?? "pipe")"
        case .written: "written"
        }
    }

    init?(text: String) {
        let parts = text.split(separator: " ")
        switch (parts.first, parts.count) {
        case ("written", 1): self = .written
        case ("writing", 2): self = .writing(size: Int64(parts[1]))
        default: return nil
        }
    }
}
