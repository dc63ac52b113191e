import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    /// `rnnspec review [PATH...]`: the pending goldens one by one, each decided with one key.
    struct Review: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "review",
            abstract:
                "Walk the pending goldens: why each is pending, how far each output moves; accept, reject or skip each with one key.",
            discussion: """
                Pending goldens are written by `rnnspec run --record pending` (or `--pending`) and `rnnspec regen --pending`. \
                Keys: a accept (the pending file replaces the golden), r reject (the pending file is deleted), s skip, q quit, ? help. \
                When standard input is not a terminal, review prints every pending golden and decides nothing: use `rnnspec accept` and `rnnspec reject`.
                """)

        @OptionGroup var project: ProjectOptions

        @Argument(
            help: "Case ids, case files or directories, or pending files (default: every pending golden).",
            completion: casePathCompletion)
        var paths: [String] = []

        func run() throws {
            let frontEnd = try project.frontEnd()
            guard isatty(STDIN_FILENO) == 1 else { throw ExitCode(try frontEnd.reviewListing(paths).rawValue) }
            throw ExitCode(try frontEnd.review(paths, readKey: readTerminalKey).rawValue)
        }
    }
}
