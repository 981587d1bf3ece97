import ArgumentParser
import Eddy

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema (draft 2020-12) of a job spec, for editors and CI checks.",
        discussion: """
            It checks what one document can say (members, types, enums, patterns, which operator \
            fits which type); eddy validate checks the rest (its $comment lists what).
            Exit codes: 0 printed.
            """
    )

    func run() throws {
        print(JobSchema.text)
    }
}
