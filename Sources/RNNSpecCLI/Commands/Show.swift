import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    /// `rnnspec show CASE [--npz FILE]` (FrontEnd+Show.swift).
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract:
                "Run one case and print its outputs next to its golden's and its expect: values; --npz writes them for NumPy (np.load)."
        )

        @OptionGroup var project: ProjectOptions

        @Argument(
            help: "The case: its file (relative to the current directory or inside the cases root) or its id.",
            completion: casePathCompletion)
        var path: String

        @Option(help: "Write the outputs to this .npz file.")
        var npz: String?

        @Option(help: "text, or json (for scripts): the outputs next to the golden's and the expect: values.")
        var format: ReportFormat = .text

        @Option(help: "The most scalars the case may hold (default 50,000,000).")
        var maxElements: Int?

        func run() throws {
            var options = RunOptions()
            if let maxElements { options.limits = LoadLimits(maxElements: maxElements) }
            throw ExitCode(
                try project.frontEnd().show(casePath: path, npz: npz, options: options, format: format).rawValue)
        }
    }
}
