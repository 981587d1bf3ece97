import ArgumentParser
import Eddy

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a job spec: print every error with its JSON path, or a one-line summary.",
        discussion: "Exit codes: 0 valid (warnings may be printed), 2 invalid."
    )

    @Argument(help: "The job spec (JSON).")
    var job: String

    func run() throws {
        let spec = try loadSpec(job)
        print(spec.summaryLine)
    }
}
