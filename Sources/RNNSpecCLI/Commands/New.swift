import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new",
            abstract: "Write a case skeleton for a kernel, with every input and param, that runs as written.")

        @OptionGroup var project: ProjectOptions

        @Argument(help: "The kernel (see `rnnspec kernels`).", completion: kernelCompletion)
        var kernel: String

        @Argument(
            help: "The new case file, under the cases root (.yaml is added if missing).",
            completion: .file(extensions: ["yaml"]))
        var path: String

        func run() throws {
            throw ExitCode(try project.frontEnd().new(kernel: kernel, path: path).rawValue)
        }
    }
}
