import Foundation
import RNNKernels

extension FrontEnd {
    /// The `.npz` arrays of a kernel's outputs: reals as float64 (float32 outputs as float32),
    /// integers as int64, booleans as bool; a list of tensors as NAME_0, NAME_1, ...; strings
    /// have no NumPy numeric form and are left out (their names are returned).
    static func npzArrays(_ outputs: KernelOutputs) -> (arrays: [(name: String, array: NpyArray)], skipped: [String]) {
        var arrays: [(name: String, array: NpyArray)] = [], skipped: [String] = []
        func add(_ name: String, _ value: Value) {
            if case .list(let items) = value {
                for (k, item) in items.enumerated() { add("\(name)_\(k)", item) }
            } else if let array = NpyArray(value) {
                arrays.append((name, array))
            } else {
                skipped.append(name)
            }
        }
        for (name, value) in outputs.entries { add(name, value) }
        return (arrays, skipped)
    }

    /// `rnnspec show CASE [--npz FILE]`: runs one case in this process and lists its outputs; with
    /// `--npz`, writes them as an `.npz` archive (`np.load(FILE)["h"]`).
    package func show(casePath: String, npz: String?, options: RunOptions) throws -> ExitStatus {
        let files = try project.caseFiles([casePath])
        guard files.count == 1 else { throw UsageError("show takes one case file; \(casePath) holds \(files.count)") }
        if let npz { try project.checkReportDestination(npz) }
        let runner = Runner(project: project, options: options, registry: registry)
        let c: Case
        do { c = try runner.load(url: files[0].url, id: files[0].id) } catch let e as SpecError {
            stderr("\(e)\n")
            return .failures
        }
        let reply: ExecutionReply
        do { reply = try Execution.run(ExecutionRequest(c), kernel: c.kernel) } catch {
            stderr("\(Runner.located(c, error))\n")
            return .failures
        }
        let (arrays, skipped) = Self.npzArrays(reply.outputs)
        for (name, a) in arrays { stdout("\(name): \(a.dtype) \(a.shape.shapeText)\n") }
        for name in skipped { stdout("\(name): strings (not written to .npz)\n") }
        if let npz {
            let url = URL(fileURLWithPath: npz, relativeTo: project.workingDirectory)
            do { try NpyWriter.npz(arrays).write(to: url, options: .atomic) } catch {
                stderr("rnnspec: cannot write \(npz): \(error.localizedDescription)\n")
                return .failures
            }
            stdout("wrote \(npz) (\(arrays.count) arrays)\n")
        }
        return .success
    }
}

extension NpyArray {
    /// A tensor as NumPy holds it: reals as float64 (float32 outputs as float32), integers as int64,
    /// booleans as bool; nil for strings and lists, which `.npy` cannot hold without pickling.
    package init?(_ value: Value) {
        switch value {
        case .real(let r): self.init(dtype: .float(bytes: r.dtype == .float32 ? 4 : 8), shape: r.shape, values: .reals(r.tensor.scalars))
        case .integer(let t): self.init(dtype: .int(bytes: 8), shape: t.shape, values: .integers(t.scalars))
        case .boolean(let t): self.init(dtype: .bool, shape: t.shape, values: .booleans(t.scalars))
        case .string, .list: return nil
        }
    }
}
