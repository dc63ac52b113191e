import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Run cases and write a self-contained HTML report: a summary, a card per case, and plots.",
            discussion: "The exit status is run's: 1 when a case did not pass (the report is written either way).")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var selection: SelectionOptions
        @OptionGroup var display: DisplayFlags
        @OptionGroup var mismatches: MismatchFlags

        @Option(name: .shortAndLong, help: "The HTML file to write.")
        var output: String = "report.html"

        @Argument(help: "Case files or directories (default: the cases root).", completion: casePathCompletion)
        var paths: [String] = []

        func run() throws {
            var options = selection.runOptions
            options.comparison.maxShown = mismatches.maxMismatches
            throw ExitCode(
                try project.frontEnd().report(
                    paths: paths, options: options, output: output,
                    display: display.display(textReport: true)
                ).rawValue)
        }
    }
}
