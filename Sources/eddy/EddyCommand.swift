import ArgumentParser
import Eddy
import Glibc

@main
struct EddyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eddy",
        abstract: "A keyed stateful stream-job runner: per-key features from a JSON job spec.",
        discussion: """
            Exit codes: 0 success; 1 runtime failure (unreadable input, unwritable output); \
            2 invalid job spec; 3 stopped at a bad record (--on-bad-record fail); 4 plan --against: \
            a resume would refuse the checkpoint, state get: no state for the key; 64 usage error; \
            130, 143 stopped by SIGINT or SIGTERM after a checkpoint.
            """,
        subcommands: [
            RunCommand.self, ValidateCommand.self, PlanCommand.self, CheckpointsCommand.self, StateCommand.self,
            ExportCommand.self, SchemaCommand.self,
        ]
    )

    static func main() {
        occupyClosedStandardDescriptors()
        main(nil)
    }
}

/// Puts /dev/null on each of descriptors 0, 1 and 2 that was closed when eddy started
/// (`eddy run job input >&-`). Otherwise the first files eddy opens get those numbers, and
/// records meant for stdout or messages meant for stderr are written into them: the
/// checkpoint directory's LOCK took a run's whole output. Not close-on-exec: the point is
/// to hold the numbers. Open returns the lowest free number, so once it is above 2 all
/// three are taken.
private func occupyClosedStandardDescriptors() {
    while true {
        let descriptor = open("/dev/null", O_RDWR)
        // Without /dev/null there is nothing to hold them with; eddy runs as it did.
        guard descriptor >= 0 else { return }
        if descriptor > 2 {
            close(descriptor)
            return
        }
    }
}

/// Exit codes, documented in the README and in `eddy --help`.
enum ExitStatus {
    static let runtimeFailure = ExitCode(1)
    static let invalidSpec = ExitCode(2)
    static let badRecord = ExitCode(3)
}

/// Loads and validates a job spec, printing warnings, or printing every error and exiting 2.
func loadSpec(_ path: String) throws -> JobSpec {
    do {
        let (spec, warnings) = try JobSpec.load(path: path)
        for warning in warnings { writeToStandardError("eddy: warning: \(path): \(warning)\n") }
        return spec
    } catch {
        let count = error.diagnostics.count
        writeToStandardError("eddy: \(path): \(count) error\(count == 1 ? "" : "s") in the job spec:\n")
        for diagnostic in error.diagnostics { writeToStandardError("  \(diagnostic)\n") }
        throw ExitStatus.invalidSpec
    }
}
