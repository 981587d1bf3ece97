import ArgumentParser
import Eddy

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the operator graph a job spec compiles into.",
        discussion: "Exit codes: 0 printed, 2 invalid spec."
    )

    @Argument(help: "The job spec (JSON).")
    var job: String

    func run() throws {
        print(JobPlan(try loadSpec(job)).describe())
    }
}
