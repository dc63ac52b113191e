import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    struct Kernels: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kernels",
            abstract: "List the kernels, or show one kernel's inputs, params and outputs.")

        @Argument(help: "A kernel name.", completion: kernelCompletion)
        var name: String?

        func run() throws {
            throw ExitCode(try FrontEnd(project: Project.locate()).kernels(name: name).rawValue)
        }
    }
}
