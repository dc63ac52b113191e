import Foundation
import RNNKernels
import RNNSpec

/// The repository's root (it holds `cases/` and `golden/`).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The absolute path of a file under the repository.
func repositoryFile(_ relative: String) -> String { repositoryRoot.appendingPathComponent(relative).path }

/// The 1-based number of the first line of `file` (under the repository) that starts with `prefix`,
/// counting only the lines after the first one that starts with `after`.
func lineNumber(in file: String, startingWith prefix: String, after: String? = nil) throws -> Int {
    let lines = try String(contentsOfFile: repositoryFile(file), encoding: .utf8).components(separatedBy: "\n")
    var armed = after == nil
    for (k, line) in lines.enumerated() {
        if armed && line.hasPrefix(prefix) { return k + 1 }
        if let after, line.hasPrefix(after) { armed = true }
    }
    throw CocoaError(
        .fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no line starting with \(prefix) in \(file)"])
}

/// How many times a kernel ran, from any thread.
final class RunCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return n }
}

/// A user's own `gru.blend`, written here element by element (not with RNNKernels' `gruBlend`), under
/// rnnspec's declaration of it. With `swapped`, it weighs the wrong side (h = z⊙h_prev + (1−z)⊙h~
/// whatever `update_side` says): the mistake that the exercise-6 case catches.
struct OwnGRUBlend: Kernel {
    let spec = KernelRegistry.standard.kernel(named: "gru.blend")!.spec
    var swapped = false
    var counter = RunCounter()

    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        counter.add()
        let z: Tensor<T> = try c.real("z"), previous: Tensor<T> = try c.real("h_prev"),
            candidate: Tensor<T> = try c.real("h_tilde")
        guard previous.shape == z.shape, candidate.shape == z.shape else {
            throw KernelError.invalid("z, h_prev and h_tilde differ in shape")
        }
        let candidateSide = try c.string("update_side") == "candidate" && !swapped
        var h = z
        for i in 0..<z.count {
            let weight = candidateSide ? z.scalars[i] : 1 - z.scalars[i]
            h.scalars[i] = (1 - weight) * previous.scalars[i] + weight * candidate.scalars[i]
        }
        var out = KernelOutputs()
        out["h"] = .real(h)
        return out
    }
}

/// A kernel rnnspec does not have, declared here: `demo.axpy`, y = alpha·x + y for vectors of one
/// length N.
struct AXPYKernel: Kernel {
    let spec = KernelSpec(
        name: "demo.axpy",
        summary: "alpha·x + y",
        inputs: [
            .real("x", ["N"], "a vector", example: "[1.0, 2.0]"),
            .real("y", ["N"], "a vector of the same length", example: "[0.5, 0.5]"),
        ],
        params: [ParamSpec("alpha", .real, default: .real(1), "the scale of x")],
        outputs: [OutputSpec("out", "[N]", "alpha·x + y")],
        sizes: KernelSpec.boundedByInputs)

    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let x: Tensor<T> = try c.real("x"), y: Tensor<T> = try c.real("y")
        let alpha = T(try c.double("alpha"))
        var out = KernelOutputs()
        out["out"] = .real(Tensor(shape: x.shape, scalars: zip(x.scalars, y.scalars).map { alpha * $0 + $1 }))
        return out
    }
}

/// A throwaway suite directory with `cases/` (and `golden/` once recorded), removed by `remove()`.
struct ScratchSuite {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("rnnspec-testing-\(UUID().uuidString)")

    init() throws {
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("cases"), withIntermediateDirectories: true)
    }

    /// Writes `cases/<id>.yaml`.
    func write(_ id: String, _ text: String) throws {
        try text.write(to: root.appendingPathComponent("cases/\(id).yaml"), atomically: true, encoding: .utf8)
    }

    /// Records the missing goldens with rnnspec's own kernels (what `rnnspec regen` does).
    func recordGoldens() throws {
        var options = RunOptions()
        options.record = .missing
        _ = try Runner(project: try Project.locate(workingDirectory: root.path), options: options).run(paths: [])
    }

    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    func remove() { try? FileManager.default.removeItem(at: root) }
}
