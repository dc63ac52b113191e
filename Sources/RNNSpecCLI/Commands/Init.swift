import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    /// `rnnspec init [DIR]`.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract:
                "Make a new suite in an empty directory: rnnspec.yaml, cases/ with one example case, golden/ with its golden."
        )

        @Argument(help: "The directory (default: the current one); it must be empty or new.", completion: .directory)
        var directory: String = "."

        func run() throws {
            let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
            let project = Project(
                casesRoot: cwd.appendingPathComponent("cases"), goldenRoot: cwd.appendingPathComponent("golden"),
                workingDirectory: cwd)
            throw ExitCode(try FrontEnd(project: project).initSuite(directory: directory).rawValue)
        }
    }
}
