import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract:
                "Write each case as a folder any tool can read: case.json and .npy files of its inputs, expect: values and golden outputs.",
            discussion:
                "The layout is described in docs/numpy-data.md (Export). The directory must be new, empty, or an earlier export; it may not lie under either root."
        )

        @OptionGroup var project: ProjectOptions
        @OptionGroup var selection: SelectionOptions

        @Option(help: ArgumentHelp("The directory to write.", valueName: "dir"))
        var to: String

        @Argument(help: "Case files or directories (default: the cases root).", completion: casePathCompletion)
        var paths: [String] = []

        func run() throws {
            throw ExitCode(try project.frontEnd().export(paths: paths, to: to, options: selection.runOptions).rawValue)
        }
    }
}
