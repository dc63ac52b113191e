import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec

/// Fast gradient checks (`mode: fast`): the projections on seeded random directions catch wrong
/// gradients (mutation tests, with the miss probability of `GradCheck`'s bound), cost a fixed
/// number of kernel runs, and fall back to the full check to name the worst element.
@Suite final class GradCheckFastModeTests {
    /// An LSTM over T = 6 steps, batch 2, I = H = 3 (square blocks, so a transposed block is a
    /// different matrix), with an upstream gradient on every step: 96 gradient elements.
    let lstm = """
        kernel: lstm.bptt
        params: {layout: separate}
        inputs:
          x: {random: normal, shape: [6, 2, 3], seed: 1}
          dy: {random: normal, shape: [6, 2, 3], seed: 2}
          h0: {random: normal, shape: [2, 3], seed: 3, std: 0.5}
          c0: {random: normal, shape: [2, 3], seed: 4, std: 0.5}
          W_f: {random: normal, shape: [3, 3], seed: 10, std: 0.6}
          U_f: {random: normal, shape: [3, 3], seed: 11, std: 0.6}
          b_f: {random: normal, shape: [3], seed: 12, std: 0.3}
          W_i: {random: normal, shape: [3, 3], seed: 13, std: 0.6}
          U_i: {random: normal, shape: [3, 3], seed: 14, std: 0.6}
          b_i: {random: normal, shape: [3], seed: 15, std: 0.3}
          W_o: {random: normal, shape: [3, 3], seed: 16, std: 0.6}
          U_o: {random: normal, shape: [3, 3], seed: 17, std: 0.6}
          b_o: {random: normal, shape: [3], seed: 18, std: 0.3}
          W_g: {random: normal, shape: [3, 3], seed: 19, std: 0.6}
          U_g: {random: normal, shape: [3, 3], seed: 20, std: 0.6}
          b_g: {random: normal, shape: [3], seed: 21, std: 0.3}
        gradcheck: {wrt: [W_f, U_f, b_f, W_i, U_i, b_i, W_o, U_o, b_o, W_g, U_g, b_g, h0, c0]}

        """

    /// A kernel whose analytic gradients are wrong in a chosen way; its loss stays the true one.
    struct Mutant: Kernel {
        let base: any Kernel
        let mutate: @Sendable (KernelContext, inout KernelOutputs) throws -> Void
        var spec: KernelSpec { base.spec }

        func run<T: KernelScalar>(_ c: KernelContext, as type: T.Type) throws -> KernelOutputs {
            var out = try base.run(c, as: type)
            // A loss-only run (finite differences) reports no gradient to get wrong.
            if !c.lossOnly { try mutate(c, &out) }
            return out
        }
    }

    static func edit(_ out: inout KernelOutputs, _ name: String, _ change: (inout Tensor<Double>) -> Void) {
        guard case .real(var r)? = out[name] else { return XCTFail("no \(name)") }
        change(&r.tensor)
        out[name] = .real(r)
    }

    /// The four bugs of the mutation test, each a plausible mistake in a backward pass.
    static let mutations: [(name: String, mutate: @Sendable (KernelContext, inout KernelOutputs) throws -> Void)] = [
        ("one element of dW_f off by 1e-3", { _, out in edit(&out, "dW_f") { $0.scalars[5] += 1e-3 } }),
        (
            "dU_i with the wrong sign",
            { _, out in edit(&out, "dU_i") { t in t = Tensor(shape: t.shape, scalars: t.scalars.map { -$0 }) } }
        ),
        (
            "dU_f transposed",
            { _, out in
                edit(&out, "dU_f") { t in
                    let n = t.shape[0]
                    t = Tensor(shape: t.shape, scalars: (0..<(n * n)).map { k in t.scalars[(k % n) * n + k / n] })
                }
            }
        ),
        (
            "the last time step missing from the backward pass",
            { c, out in
                // The backward loop that never sees step T−1: every gradient from dy with that step zeroed.
                guard case .real(var dy)? = c.inputs["dy"] else { return }
                let perStep = dy.tensor.count / dy.shape[0]
                for i in (dy.tensor.count - perStep)..<dy.tensor.count { dy.tensor.scalars[i] = 0 }
                var inputs = c.inputs
                inputs["dy"] = .real(dy)
                let skipped = try KernelRegistry.standard.kernel(named: "lstm.bptt")!.run(
                    KernelContext(inputs: inputs, params: c.params, dims: c.dims), as: Double.self)
                for (name, value) in skipped.entries where name.hasPrefix("d") && name != "dy" { out[name] = value }
            }
        ),
    ]

    func loadCase(_ text: String) throws -> (TempProject, Case) {
        let p = try TempProject()
        let url = try p.writeCase("g", text)
        return (p, try Runner(project: p.project, options: RunOptions()).load(url: url, id: "g"))
    }

    /// The run count of a check: every kernel run goes through `evaluate`.
    func differences(
        _ c: Case, kernel: any Kernel, seed: UInt64? = nil, directions: Int? = nil, mode: GradCheckMode = .fast
    ) throws -> (FiniteDifferences, runs: Int) {
        var request = ExecutionRequest(c)
        request.gradcheck?.mode = mode
        if let seed { request.gradcheck?.seed = seed }
        if let directions { request.gradcheck?.directions = directions }
        var runs = 0
        let d = try Execution.gradients(request, request.gradcheck!, spec: kernel.spec) {
            (inputs, params, lossOnly) throws(ExecutionFailure) in
            runs += 1
            return try Execution.outputs(kernel, inputs, params, request.dims, lossOnly: lossOnly)
        }
        return (d, runs)
    }

    func request(_ c: Case, seed: UInt64? = nil, directions: Int? = nil) -> GradCheckRequest {
        var r = c.gradcheck!
        if let seed { r.seed = seed }
        if let directions { r.directions = directions }
        return r
    }

    @Test func testFastModeCostsTwoRunsPerDirectionWhateverTheElementCount() throws {
        let (_, c) = try loadCase(lstm)
        let kernel = KernelRegistry.standard.kernel(named: "lstm.bptt")!
        XCTAssertEqual(c.gradcheck?.mode, .fast, "fast is the default")
        XCTAssertEqual(c.gradcheck?.directions, 4)
        let (fast, fastRuns) = try differences(c, kernel: kernel)
        XCTAssertEqual(fastRuns, 1 + 2 * 4)
        XCTAssertEqual(fast.directional.count, 4)
        XCTAssertTrue(
            fast.gradients.allSatisfy { $0.numeric == nil }, "a passing fast check sends no element-wise differences")
        XCTAssertEqual(GradCheck.compare(fast.gradients, directional: fast.directional, request(c)), [])
        let (full, fullRuns) = try differences(c, kernel: kernel, mode: .full)
        XCTAssertEqual(fullRuns, 1 + 2 * 96)
        XCTAssertEqual(GradCheck.compare(full.gradients, request(c)), [])
        // The directional difference is the element-wise differences projected (up to their rounding).
        let u = GradCheck.directions(seed: 0, count: 4, length: 96)
        let fd = full.gradients.flatMap { $0.numeric!.tensor.scalars }
        for (j, direction) in u.enumerated() {
            XCTAssertEqual(zip(direction, fd).reduce(0) { $0 + $1.0 * $1.1 }, fast.directional[j], accuracy: 1e-7)
            XCTAssertEqual(direction.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-12, "unit directions")
        }
    }

    @Test func testDirectionsAreSeededNotSystemRandom() {
        XCTAssertEqual(
            GradCheck.directions(seed: 7, count: 3, length: 50), GradCheck.directions(seed: 7, count: 3, length: 50))
        XCTAssertNotEqual(
            GradCheck.directions(seed: 7, count: 1, length: 50), GradCheck.directions(seed: 8, count: 1, length: 50))
        // Direction j is the j-th block of normals of SeededStream(seed), normalized.
        var stream = SeededStream(seed: 7)
        let z = (0..<100).map { _ in stream.nextNormal() }
        let second = Array(z[50...]), norm = second.reduce(0) { $0 + $1 * $1 }.squareRoot()
        XCTAssertEqual(GradCheck.directions(seed: 7, count: 2, length: 50)[1], second.map { $0 / norm })
    }

    /// The verdict of a fast check with `seed` whose directional differences are the element-wise
    /// ones projected (`fd`, computed once): what the check along each direction would see, up to
    /// the rounding of one difference (`testFastModeCostsTwoRunsPerDirectionWhateverTheElementCount`
    /// compares the two), without two kernel runs per direction and seed.
    func projectedVerdict(_ analytic: [RealTensor], _ fd: [Double], seed: UInt64, directions k: Int) -> Bool {
        let u = GradCheck.directions(seed: seed, count: k, length: fd.count)
        let numeric = u.map { zip($0, fd).reduce(0) { $0 + $1.0 * $1.1 } }
        return GradCheck.fastVerdict(analytic, numeric, directions: u, tolerance: GradCheck.defaultTolerance).passed
    }

    /// The mutation test: each bug is caught by the default check (seed 0, 4 directions, run for
    /// real), the failure falls back to the full check and names the worst element, and no seed of
    /// 1…200 misses it; `GradCheck.missBound` gives the probability of a miss for each.
    @Test func testFastModeCatchesWrongElementsSignsTransposedBlocksAndMissingSteps() throws {
        let (_, c) = try loadCase(lstm)
        let truth = KernelRegistry.standard.kernel(named: "lstm.bptt")!
        let (clean, _) = try differences(c, kernel: truth, mode: .full)
        let trueGradient = clean.gradients.flatMap(\.analytic.tensor.scalars)
        let fd = clean.gradients.flatMap { $0.numeric!.tensor.scalars }
        var bounds: [String] = []
        for mutation in Self.mutations {
            let mutant = Mutant(base: truth, mutate: mutation.mutate)
            let (d, runs) = try differences(c, kernel: mutant)
            let mismatches = GradCheck.compare(d.gradients, directional: d.directional, request(c))
            XCTAssertFalse(mismatches.isEmpty, "fast mode missed: \(mutation.name)")
            XCTAssertTrue(
                d.gradients.allSatisfy { $0.numeric != nil },
                "\(mutation.name): a failing fast check falls back to full")
            XCTAssertEqual(runs, 1 + 2 * 4 + 2 * 96, mutation.name)
            let texts = mismatches.map { $0.lines.joined(separator: "\n") }
            XCTAssertTrue(
                texts.allSatisfy { $0.contains("fast check: ") && $0.contains("worst") && $0.contains(" at [") },
                texts.joined(separator: "\n"))

            let analytic = d.gradients.map(\.analytic)
            let g = analytic.flatMap(\.tensor.scalars)
            let b = zip(g, trueGradient).map { $0 - $1 }
            let w = g.map { 1e-7 + 1e-5 * $0.magnitude }
            let bound = GradCheck.missBound(error: b, weights: w, directions: 4)
            bounds.append(
                "\(mutation.name): ‖b‖₂ \(GradCheck.short(b.reduce(0) { $0 + $1 * $1 }.squareRoot())), miss ≤ \(GradCheck.short(bound))"
            )
            // A subtle bug (one element off by 1e-3, where the gradient's elements are ~0.1–1) has the
            // largest bound; the others are far below it.
            XCTAssertLessThan(bound, mutation.name.hasPrefix("one element") ? 0.02 : 1e-9, mutation.name)
            let missed = (1...200).filter { projectedVerdict(analytic, fd, seed: UInt64($0), directions: 4) }.count
            XCTAssertEqual(missed, 0, "\(mutation.name) missed for \(missed) of 200 seeds")
        }
        print("fast-mode miss bounds (4 directions): " + bounds.joined(separator: "; "))
    }

    /// The bound is a bound: with one direction and a bug small enough that it says something
    /// between 0 and 1, the observed miss rate over 2,000 seeds stays below it, and the true
    /// gradient is never failed.
    @Test func testObservedMissRateIsWithinTheBound() throws {
        let (_, c) = try loadCase(lstm)
        let truth = KernelRegistry.standard.kernel(named: "lstm.bptt")!
        let (clean, _) = try differences(c, kernel: truth, mode: .full)
        let fd = clean.gradients.flatMap { $0.numeric!.tensor.scalars }
        let trueAnalytic = clean.gradients.map(\.analytic)
        let g = trueAnalytic.flatMap(\.tensor.scalars)
        let w = g.map { 1e-7 + 1e-5 * $0.magnitude }
        let delta = 1e-3
        var b = [Double](repeating: 0, count: g.count)
        b[5] = delta
        let bound = GradCheck.missBound(error: b, weights: w, directions: 1)
        XCTAssertGreaterThan(bound, 0.02)
        XCTAssertLessThan(bound, 0.5)
        var wrong = trueAnalytic
        wrong[0].tensor.scalars[5] += delta  // dW_f, the first wrt input
        let seeds = 2000
        let missed = (1...seeds).filter { projectedVerdict(wrong, fd, seed: UInt64($0), directions: 1) }.count
        let falseAlarms = (1...seeds).filter { !projectedVerdict(trueAnalytic, fd, seed: UInt64($0), directions: 1) }
            .count
        let rate = Double(missed) / Double(seeds)
        print(
            "one direction, one element off by \(delta): missed \(missed) of \(seeds) (rate \(rate)), bound \(GradCheck.short(bound))"
        )
        XCTAssertLessThanOrEqual(rate, bound)
        XCTAssertGreaterThan(missed, 0, "a bug this small is sometimes missed: the bound is not vacuous")
        XCTAssertEqual(falseAlarms, 0)
        // The same seeds run for real agree with the projection (the first 6).
        let mutant = Mutant(base: truth, mutate: { _, out in Self.edit(&out, "dW_f") { $0.scalars[5] += delta } })
        for seed in 1...6 {
            let (s, _) = try differences(c, kernel: mutant, seed: UInt64(seed), directions: 1)
            XCTAssertEqual(
                GradCheck.verdict(s.gradients, s.directional, request(c, seed: UInt64(seed), directions: 1)).passed,
                projectedVerdict(wrong, fd, seed: UInt64(seed), directions: 1), "seed \(seed)")
        }
    }

    @Test func testModeDirectionsAndSeedAreReadAndChecked() throws {
        let p = try TempProject()
        let base = lstm.replacingOccurrences(
            of: "gradcheck: {wrt: [W_f, U_f, b_f, W_i, U_i, b_i, W_o, U_o, b_o, W_g, U_g, b_g, h0, c0]}\n", with: "")
        func expected(_ line: String, _ column: Int, _ message: String) -> String {
            "cases/c.yaml:20:\(column): error: \(message)\n\(line)\n" + String(repeating: " ", count: column - 1) + "^"
        }
        for (line, column, message) in [
            (
                "gradcheck: {wrt: [W_f], mode: fats}", 31,
                "gradcheck mode must be fast or full, not 'fats'; did you mean 'fast'?"
            ),
            (
                "gradcheck: {wrt: [W_f], mode: full, seed: 3}", 37,
                "gradcheck seed applies to mode: fast, not mode: full"
            ),
            ("gradcheck: {wrt: [W_f], directions: 0}", 37, "gradcheck directions must be between 1 and 64"),
            ("gradcheck: {wrt: [W_f], seed: -1}", 31, "gradcheck seed must be an integer ≥ 0"),
            ("gradcheck: {wrt: [W_f, W_f]}", 24, "gradcheck wrt lists 'W_f' twice"),
        ] {
            XCTAssertEqual(try p.loadError(base + line + "\n"), expected(line, column, message))
        }
        let (_, c) = try loadCase(base + "gradcheck: {wrt: [W_f, h0], mode: fast, directions: 2, seed: 9}\n")
        XCTAssertEqual(
            c.gradcheck?.plan,
            GradCheckPlan(wrt: ["W_f", "h0"], eps: 1e-6, loss: "loss", mode: .fast, directions: 2, seed: 9))
        let (_, full) = try loadCase(base + "gradcheck: {wrt: [W_f], mode: full}\n")
        XCTAssertEqual(full.gradcheck?.mode, .full)
    }

    /// Fewer elements than directions: the check runs element by element (no more runs than fast).
    @Test func testFewElementsAreCheckedInFull() throws {
        let (_, c) = try loadCase(
            lstm.replacingOccurrences(
                of: "wrt: [W_f, U_f, b_f, W_i, U_i, b_i, W_o, U_o, b_o, W_g, U_g, b_g, h0, c0]",
                with: "wrt: [b_f], directions: 5"))
        let (d, runs) = try differences(c, kernel: KernelRegistry.standard.kernel(named: "lstm.bptt")!)
        XCTAssertEqual(runs, 1 + 2 * 3)
        XCTAssertEqual(d.directional, [])
        XCTAssertNotNil(d.gradients.first?.numeric)
    }

    /// Through worker processes, with the differences computed in the worker and, as for a backend
    /// that leaves them out, by the coordinator: the same verdicts, and the worst element on failure.
    @Test func testFastChecksThroughWorkersAndBackends() throws {
        let p = try TempProject()
        try p.writeCase("good", lstm)
        try p.writeCase(
            "bad",
            """
            kernel: fault.square
            params: {wrong: true}
            inputs:
              x: {range: [0, 2, 0.1]}
            gradcheck: {wrt: [x]}

            """)
        for command in ["'\(rnnspecBinary.path)' serve", "'\(rnnspecBinary.path)' serve --no-finite-differences"] {
            let out = try runRNNSpec(
                ["run", "--backend", command], in: p.root, environment: ["RNNSPEC_FAULT_KERNELS": "1"])
            XCTAssertTrue(out.stdout.contains("NEW: bad (1 of 2)"), out.stdout + out.stderr)
            XCTAssertTrue(
                out.stdout.contains("fast check: 4 of 4 random directions (seed 0) differ from the finite differences"),
                out.stdout)
            XCTAssertTrue(out.stdout.contains("output 'dx' differs from the finite differences"), out.stdout)
            XCTAssertEqual(
                out.stdout.components(separatedBy: "differs from the finite differences").count, 2, out.stdout)
        }
    }

    /// A finite-difference run asks for the loss alone (`KernelContext.lossOnly`). For every gradcheck
    /// case in the repository, in both dtypes, a loss-only run reports the loss bit for bit as a full
    /// run does, and nothing a full run does not; rnn.bptt, lstm.bptt and gru.bptt skip their backward
    /// pass and report the loss alone.
    @Test func testLossOnlyRunsReportTheFullRunsLoss() throws {
        let project = try Project.locate(
            casesRoot: repositoryRoot.appendingPathComponent("cases").path, workingDirectory: repositoryRoot.path)
        let runner = Runner(project: project, options: RunOptions())
        var alone: Set<String> = [], kernels: Set<String> = []
        for file in try runner.selectFiles([]) {
            guard let c = try? runner.load(url: file.url, id: file.id), c.gradcheck != nil,
                let loss = c.kernel.spec.lossOutput
            else { continue }
            let request = ExecutionRequest(c)
            for dtype in ["float64", "float32"] {
                var params = request.params
                if params["dtype"] != nil { params["dtype"] = .string(dtype) }
                let full = try Execution.outputs(c.kernel, request.inputs, params, request.dims)
                let part = try Execution.outputs(c.kernel, request.inputs, params, request.dims, lossOnly: true)
                guard case .real(let a)? = full[loss], case .real(let b)? = part[loss] else {
                    Issue.record("\(file.id): no \(loss)")
                    continue
                }
                XCTAssertEqual(a.tensor.scalars.map(\.bitPattern), b.tensor.scalars.map(\.bitPattern), file.id)
                for (name, _) in part.entries { XCTAssertNotNil(full[name], "\(file.id): \(name)") }
                kernels.insert(c.kernel.spec.name)
                if part.entries.count == 1 { alone.insert(c.kernel.spec.name) }
            }
        }
        XCTAssertTrue(alone.isSuperset(of: ["rnn.bptt", "lstm.bptt", "gru.bptt"]), "\(alone)")
        XCTAssertGreaterThan(kernels.count, 5, "\(kernels)")
    }
}
