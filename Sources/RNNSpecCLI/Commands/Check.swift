import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check", abstract: "Validate case files without running kernels.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var selection: SelectionOptions
        @OptionGroup var display: DisplayFlags

        @Argument(help: "Case files or directories (default: the cases root).", completion: casePathCompletion)
        var paths: [String] = []

        func run() throws {
            throw ExitCode(
                try project.frontEnd().check(
                    paths: paths, options: selection.runOptions,
                    display: display.display(textReport: true)
                ).rawValue)
        }
    }
}
