import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune", abstract: "Delete golden files that have no case.")

        @OptionGroup var project: ProjectOptions

        @Flag(help: "Only list them.")
        var dryRun = false

        func run() throws {
            throw ExitCode(try project.frontEnd().prune(dryRun: dryRun).rawValue)
        }
    }
}
