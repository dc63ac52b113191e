import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    /// `rnnspec schema` (CaseSchema.swift).
    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema",
            abstract:
                "Print the JSON Schema (draft 2020-12) of case files, from the kernel registry (for editors: rnnspec schema > rnnspec.schema.json)."
        )

        func run() throws {
            writeAll(STDOUT_FILENO, CaseSchema.text())
        }
    }
}
