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

    /// A 1-D curve (a loss per iteration) in a few lines: its first, last and smallest values with their
    /// indices, then every k-th value, k chosen so that about ten are listed (k = ⌈count / 10⌉):
    ///
    ///     loss, 500 values: first 85.0329 [0], last 0.104901 [499], min 0.0981234 [497]
    ///       every k-th, k = 50: [0] 85.0329  [50] 61.2 ...  [450] 0.3  [499] 0.104901
    ///
    /// Numbers have six significant digits; NaN is `nan` and is never the minimum.
    static func curveSummary(_ name: String, _ values: [Double]) -> String {
        func f(_ x: Double) -> String { x.isNaN ? "nan" : x.isInfinite ? (x < 0 ? "-inf" : "inf") : String(format: "%.6g", x) }
        guard let first = values.first, let last = values.last else { return "\(name), 0 values\n" }
        var text = "\(name), \(values.count) value\(values.count == 1 ? "" : "s"): first \(f(first)) [0], last \(f(last)) [\(values.count - 1)]"
        if let m = values.indices.filter({ !values[$0].isNaN }).min(by: { values[$0] < values[$1] }) {
            text += ", min \(f(values[m])) [\(m)]"
        }
        let k = (values.count + 9) / 10
        var picks = Array(stride(from: 0, to: values.count, by: k))
        if picks.last != values.count - 1 { picks.append(values.count - 1) }
        text += "\n  every k-th, k = \(k): " + picks.map { "[\($0)] \(f(values[$0]))" }.joined(separator: "  ") + "\n"
        return text
    }

    /// `rnnspec show CASE [--npz FILE]`: runs one case in this process and lists its outputs (and the
    /// curves its kernel declares, `KernelSpec.curves`, with `curveSummary`); with `--npz`, writes them as an `.npz` archive (`np.load(FILE)["h"]`).
    public func show(casePath: String, npz: String?, options: RunOptions) throws -> ExitStatus {
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
        for name in c.kernel.spec.curves {
            guard case .real(let r)? = reply.outputs[name], r.shape.count == 1 else { continue }
            stdout(Self.curveSummary(name, r.tensor.scalars))
        }
        if let npz {
            let url = URL(fileURLWithPath: npz, relativeTo: project.workingDirectory)
            do { try NpyWriter.npz(arrays).write(to: url, options: .atomic) } catch {
                stderr("rnnspec: error: cannot write \(npz): \(error.localizedDescription)\n")
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
    public init?(_ value: Value) {
        switch value {
        case .real(let r): self.init(dtype: .float(bytes: r.dtype == .float32 ? 4 : 8), shape: r.shape, values: .reals(r.tensor.scalars))
        case .integer(let t): self.init(dtype: .int(bytes: 8), shape: t.shape, values: .integers(t.scalars))
        case .boolean(let t): self.init(dtype: .bool, shape: t.shape, values: .booleans(t.scalars))
        case .string, .list: return nil
        }
    }
}
