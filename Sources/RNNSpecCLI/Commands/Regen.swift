import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    struct Regen: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "regen",
            abstract: "Rewrite goldens that are new, stale, unreadable or failing; report how far each output moved.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var selection: SelectionOptions
        @OptionGroup var display: DisplayFlags
        @OptionGroup var mismatches: MismatchFlags

        @Flag(help: "Rewrite every golden, passing ones included (unchanged bytes are left alone).")
        var all = false

        @Flag(
            help:
                "Write each golden as a pending file beside it (golden/ID.yaml.pending) for `rnnspec review`, `accept` and `reject`."
        )
        var pending = false

        @Flag(help: "Write nothing: print which goldens would be written and how far each output would move.")
        var dryRun = false

        @Argument(
            help: "Case files or directories, or case ids (default: the cases root).", completion: casePathCompletion)
        var paths: [String] = []

        func validate() throws {
            if pending && dryRun {
                throw ValidationError("--pending writes pending files and --dry-run writes nothing; give one of them")
            }
        }

        func run() throws {
            var options = selection.runOptions
            options.comparison.maxShown = mismatches.maxMismatches
            options.recordTarget = dryRun ? .dryRun : pending ? .pending : .golden
            throw ExitCode(
                try project.frontEnd().regen(
                    paths: paths, all: all, options: options,
                    display: display.display(textReport: true)
                ).rawValue)
        }
    }
}
