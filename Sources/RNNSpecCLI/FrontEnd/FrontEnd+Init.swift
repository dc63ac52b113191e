import Foundation
import RNNSpec

extension FrontEnd {
    /// `rnnspec init [DIR]`: a new suite in an empty directory (`SuiteInit.create`), then what to
    /// do next.
    func initSuite(directory: String) throws -> ExitStatus {
        try refuseUnderCI("`init`")
        try SuiteInit.create(directory: directory, workingDirectory: project.workingDirectory, registry: registry)
        let top = (directory.hasSuffix("/") ? String(directory.dropLast()) : directory).escapedForDisplay
        stdout(
            """
            wrote \(top)/rnnspec.yaml, \(top)/cases/example/rnn_step.yaml and its golden \(top)/golden/example/rnn_step.yaml
            next: `rnnspec run` there; `rnnspec new KERNEL cases/PATH.yaml` adds a case (`rnnspec kernels` lists the kernels)

            """)
        return .success
    }

    /// Refuses (usage error) when `CI=true`: `what` writes files.
    func checkMayWrite(_ what: String) throws { try refuseUnderCI(what) }
}
