import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    /// The pending goldens `accept` and `reject` act on: case ids, paths or pending files, or `--all`.
    struct PendingSelection: ParsableArguments {
        @Flag(help: "Every pending golden.")
        var all = false

        @Argument(help: "Case ids, case files or directories, or pending files.", completion: casePathCompletion)
        var ids: [String] = []
    }

    /// `rnnspec accept [ID...|--all]`.
    struct Accept: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "accept",
            abstract: "Accept pending goldens: each pending file is renamed over its golden (atomically).")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var pending: PendingSelection

        func run() throws {
            throw ExitCode(try project.frontEnd().accept(pending.ids, all: pending.all).rawValue)
        }
    }

    /// `rnnspec reject [ID...|--all]`.
    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reject",
            abstract: "Reject pending goldens: each pending file is deleted; the golden stays as it is.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var pending: PendingSelection

        func run() throws {
            throw ExitCode(try project.frontEnd().reject(pending.ids, all: pending.all).rawValue)
        }
    }
}
