import Foundation
import RNNSpec

extension FrontEnd {
    /// `rnnspec show CASE [--npz FILE]`: runs one case in this process and lists its outputs; with
    /// `--npz`, writes them as an `.npz` archive (`np.load(FILE)["h"]`).
    /// It prints each output next to the golden's value and the case's `expect:` value (`format`
    /// `.json`: the same as one JSON object), and in text the curves its kernel declares
    /// (`KernelSpec.curves`) compactly, with `CaseOutputsText.curveSummary`.
    func show(casePath: String, npz: String?, options: RunOptions, format: ReportFormat = .text) throws -> ExitStatus {
        let files = try project.caseFiles([casePath])
        guard files.count == 1 else { throw UsageError("show takes one case file; \(casePath) holds \(files.count)") }
        if let npz { try project.checkReportDestination(npz) }
        let runner = Runner(project: project, options: options, registry: registry)
        let c: Case
        let outputs: KernelOutputs
        do {
            c = try runner.load(url: files[0].url, id: files[0].id)
            outputs = try CaseOutputsText.execute(c)
        } catch let e as SpecError {
            stderr("\(e)\n")
            return .failures
        }
        let (arrays, skipped) = CaseOutputsText.npzArrays(outputs)
        stdout(CaseOutputsText.text(c, outputs, store: project.goldenStore, format: format))
        if format == .text {
            for name in c.kernel.spec.curves {
                guard case .real(let r)? = outputs[name], r.shape.count == 1 else { continue }
                stdout(CaseOutputsText.curveSummary(name, r.tensor.scalars))
            }
        }
        if let npz {
            for name in skipped { stderr("\(name): strings (not written to .npz)\n") }
            let url = URL(fileURLWithPath: npz, relativeTo: project.workingDirectory)
            do { try NpyWriter.npz(arrays).write(to: url, options: .atomic) } catch {
                stderr("rnnspec: error: cannot write \(npz): \(error.localizedDescription)\n")
                return .failures
            }
            (format == .json ? stderr : stdout)("wrote \(npz) (\(arrays.count) arrays)\n")
        }
        return .success
    }
}
