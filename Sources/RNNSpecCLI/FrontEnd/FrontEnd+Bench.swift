import Foundation
import RNNSpec
import RNNSpecBench

extension FrontEnd {
    /// `rnnspec bench`: runner throughput, kernel throughput against NumPy, and the
    /// matrix-multiply peak, as a table (or JSON); each step announced on standard error.
    func bench(_ options: BenchOptions) throws -> ExitStatus {
        if isDebugBuild {
            stderr("warning: this is a debug build; measure with `swift run -c release rnnspec bench`\n")
        }
        let stderr = self.stderr
        let report = try Benchmark(project: project, log: { stderr($0) }).run(options)
        switch options.format {
        case .text: stdout(report.text())
        case .json: stdout(report.json())
        }
        return report.runner.allSatisfy({ $0.exitStatus == 0 }) ? .success : .failures
    }
}
