import ArgumentParser
import Eddy
import Foundation

struct CheckpointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoints",
        abstract: "List, verify or clean up the checkpoints in a checkpoint directory.",
        subcommands: [List.self, Verify.self, GC.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One line per checkpoint: id, time, events read, input offsets, size, incremental bytes.",
            discussion: "Exit codes: 0 listed, 1 the directory cannot be read.")

        @Argument(help: "The checkpoint directory (e.g. eddy-checkpoints/card_velocity).")
        var directory: String

        func run() throws {
            let (checkpoints, unreadable) = try summaries(in: directory)
            if checkpoints.isEmpty, unreadable.isEmpty { print("no checkpoints in \(directory)\(hint(forEmpty: directory))") }
            for summary in checkpoints {
                let metadata = summary.metadata
                let workers = metadata.parallelism ?? 1
                let inputs = metadata.sources.map { "\($0.name)@\($0.offset)\($0.finished ? " (end)" : "")" }.joined(separator: ", ")
                print(
                    "\(CheckpointStore.name(of: metadata.id))  \(metadata.createdAt)  \(metadata.backend)  "
                        + "\(metadata.counters["read"] ?? 0) events  " + (metadata.counters["keys"].map { "\($0) keys  " } ?? "")
                        + "\(workers) worker\(workers == 1 ? "" : "s")  inputs: \(inputs.isEmpty ? "-" : inputs)  "
                        + "size \(formatBytes(metadata.totalBytes))  incremental \(formatBytes(summary.incrementalBytes))  "
                        + "took \(String(format: "%.3f", metadata.seconds)) s")
            }
            for problem in unreadable { print("unreadable: \(problem)") }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every checkpoint's files against the sizes and checksums its metadata lists.",
            discussion: "Exit codes: 0 all verify, 1 a checkpoint is damaged or the directory cannot be read.")

        @Argument(help: "The checkpoint directory.")
        var directory: String

        func run() throws {
            let (checkpoints, unreadable) = try summaries(in: directory)
            if checkpoints.isEmpty, unreadable.isEmpty {
                // Nothing verified is not "all verify": a script's `verify DIR && ...` must not pass.
                writeToStandardError("eddy: no checkpoints in \(directory) to verify\(hint(forEmpty: directory))\n")
                throw ExitStatus.runtimeFailure
            }
            var damaged = unreadable.count
            for problem in unreadable { print("damaged: \(problem)") }
            for summary in checkpoints {
                let name = CheckpointStore.name(of: summary.metadata.id)
                let problems = CheckpointStore.problems(id: summary.metadata.id, in: directory)
                if problems.isEmpty {
                    print("ok       \(name): \(summary.metadata.files.count) files, \(formatBytes(summary.metadata.totalBytes)), checksums and references hold")
                } else {
                    damaged += 1
                    for problem in problems { print("damaged  \(name): \(problem)") }
                }
            }
            if damaged > 0 { throw ExitStatus.runtimeFailure }
        }
    }
}

extension CheckpointsCommand {
    struct GC: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove what no retained checkpoint needs: older checkpoints, unlisted shared files, leftovers of interrupted writes.",
            discussion: """
                Keeps the newest --retain checkpoints (by the run's own retention rule) and the newest \
                one that verifies, whatever its age. Refuses while a run holds the directory's lock.
                Exit codes: 0 done (or nothing to remove); 1 the directory is missing, in use or cannot be cleaned.
                """)

        @Argument(help: "The checkpoint directory (e.g. eddy-checkpoints/card_velocity).")
        var directory: String

        @Option(help: "Checkpoints to keep, newest first (as eddy run --retain).")
        var retain: Int = CheckpointStore.defaultRetain

        @Flag(help: "Print what would be removed; remove nothing.")
        var dryRun = false

        func validate() throws {
            if retain < 1 { throw ValidationError("--retain \(retain): keep at least 1 checkpoint") }
        }

        func run() throws {
            let (removed, kept) = try readable { try CheckpointStore.collectGarbage(in: directory, retain: retain, dryRun: dryRun) }
            let verb = dryRun ? "would remove" : "removed"
            for item in removed { print("\(verb) \(item.path): \(item.reason) (\(formatBytes(item.bytes)))") }
            let freed = removed.reduce(Int64(0)) { $0 + $1.freedBytes }
            let linked = removed.reduce(Int64(0)) { $0 + $1.bytes } - freed
            let keptNames = kept.isEmpty ? "no checkpoints" : kept.map(CheckpointStore.name(of:)).joined(separator: ", ")
            if removed.isEmpty {
                print("nothing to remove in \(directory); kept \(keptNames)")
                return
            }
            print(
                "\(dryRun ? "would free" : "freed") \(formatBytes(freed)) (\(freed) bytes) in \(removed.count) entr\(removed.count == 1 ? "y" : "ies")"
                    + (linked > 0 ? ", and unlinked \(formatBytes(linked)) that other links keep on disk" : "") + "; kept \(keptNames)")
        }
    }
}

/// Why a directory without checkpoints may be the wrong one: one checkpoint, or the root
/// that holds a directory per job.
private func hint(forEmpty directory: String) -> String {
    let trimmed = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
    let name = (trimmed as NSString).lastPathComponent
    if name.hasPrefix("chk-") {
        let parent = (trimmed as NSString).deletingLastPathComponent
        return ": \(directory) is one checkpoint; name the directory that holds it (\(parent.isEmpty ? "." : parent))"
    }
    let jobs = ((try? FileManager.default.contentsOfDirectory(atPath: trimmed)) ?? []).sorted().filter { job in
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: trimmed + "/" + job)) ?? []
        return entries.contains { $0.hasPrefix("chk-") }
    }
    if !jobs.isEmpty {
        return ": it holds a directory per job; name one, e.g. \(trimmed)/\(jobs[0])"
    }
    return ""
}

/// The checkpoints of `directory`, or exit 1 naming the problem: a directory that does
/// not exist is an error, not an empty list.
private func summaries(in directory: String) throws -> (checkpoints: [CheckpointSummary], unreadable: [String]) {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
        writeToStandardError("eddy: \(directory): no such checkpoint directory\n")
        throw ExitStatus.runtimeFailure
    }
    return try readable { try CheckpointStore.summaries(in: directory) }
}

private func readable<Result>(_ body: () throws -> Result) throws -> Result {
    do {
        return try body()
    } catch let error as IOError {
        writeToStandardError("eddy: \(error.message)\n")
        throw ExitStatus.runtimeFailure
    }
}

private func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
