import Foundation
import TestAssertions
import Testing

@testable import RNNKernels

/// A small deterministic generator for test weights (not the harness's generator).
struct TestRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
    mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    /// Uniform in [-scale, scale).
    mutating func tensor(_ shape: [Int], scale: Double = 1) -> Tensor<Double> {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in (2 * next() - 1) * scale })
    }
}

extension CellParameters {
    func converted<U: KernelScalar>(to _: U.Type) -> CellParameters<U> {
        CellParameters<U>(
            w: w.converted(), r: r.converted(), bw: bw?.converted(), br: br?.converted(),
            peepholeI: peepholeI?.converted(), peepholeF: peepholeF?.converted(),
            peepholeO: peepholeO?.converted(), projection: projection?.converted())
    }
}

func assertClose<T: KernelScalar>(
    _ a: Tensor<T>, _ b: [Double], abs tol: Double = 1e-12,
    _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(a.count, b.count, "count \(message)", file: file, line: line)
    for (k, (x, y)) in zip(a.scalars, b).enumerated() {
        XCTAssertEqual(Double(x), y, accuracy: tol, "element \(k) \(message)", file: file, line: line)
    }
}

@Suite final class RecurrentCellForwardTests {
    let ln2 = Foundation.log(2.0), ln3 = Foundation.log(3.0)

    /// σ(ln 3) = 3/4, σ(−ln 3) = 1/4, tanh(ln 2) = 3/5, tanh(ln 3) = 4/5: exact gate values from biases alone.
    @Test func testLSTMGatesFromBiasesInAnyGateOrder() {
        let biasOf: [Gate: Double] = [.i: ln3, .f: -ln3, .g: ln2, .o: ln3]
        for order in [[Gate.i, .f, .g, .o], [.f, .i, .o, .g], [.i, .o, .f, .g]] {
            let conv = CellConventions(kind: .lstm, gateOrder: order)
            let p = CellParameters<Double>(
                w: Tensor(zeros: [4, 1]), r: Tensor(zeros: [4, 1]),
                bw: Tensor(order.map { biasOf[$0]! }))
            let cell = RecurrentCell(conventions: conv, parameters: p)
            let s = cell.forward(
                x: Tensor(shape: [1, 1], scalars: [0.3]), hPrev: Tensor(shape: [1, 1], scalars: [-0.2]),
                cPrev: Tensor(shape: [1, 1], scalars: [1]))
            assertClose(s.gate(.i, of: conv), [0.75], abs: 1e-15, "\(order)")
            assertClose(s.gate(.f, of: conv), [0.25], abs: 1e-15, "\(order)")
            assertClose(s.gate(.g, of: conv), [0.6], abs: 1e-15, "\(order)")
            assertClose(s.gate(.o, of: conv), [0.75], abs: 1e-15, "\(order)")
            // c = 0.25·1 + 0.75·0.6 = 0.7, h = 0.75·tanh(0.7).
            assertClose(s.cellState!, [0.7], abs: 1e-15)
            assertClose(s.h, [0.75 * Foundation.tanh(0.7)], abs: 1e-15)
        }
    }

    /// input_forget: f = 1 − i whatever the forget weights say; peepholes add p ⊙ c_prev (i, f) and p ⊙ c (o).
    @Test func testLSTMInputForgetAndPeepholes() {
        let conv = CellConventions(kind: .lstm, gateOrder: [.i, .o, .f, .g], inputForget: true)
        // Pre-activations before peepholes: i 0, o 0, f 5 (ignored), g ln 2.
        var p = CellParameters<Double>(
            w: Tensor(zeros: [4, 1]), r: Tensor(zeros: [4, 1]), bw: Tensor([0, 0, 5, ln2]))
        p.peepholeI = Tensor([ln3])  // a_i = ln 3 · c_prev = ln 3  → i = 3/4, f = 1/4
        p.peepholeO = Tensor([-ln3 / 0.7])  // c = 0.25 + 0.75 · 0.6 = 0.7 → a_o = −ln 3 → o = 1/4
        p.peepholeF = Tensor([100])  // ignored under input_forget
        let cell = RecurrentCell(conventions: conv, parameters: p)
        let s = cell.forward(
            x: Tensor(shape: [1, 1], scalars: [0]), hPrev: Tensor(shape: [1, 1], scalars: [0]),
            cPrev: Tensor(shape: [1, 1], scalars: [1]))
        assertClose(s.gate(.i, of: conv), [0.75], abs: 1e-15)
        assertClose(s.gate(.f, of: conv), [0.25], abs: 1e-15)
        assertClose(s.cellState!, [0.7], abs: 1e-15)
        assertClose(s.gate(.o, of: conv), [0.25], abs: 1e-15)
        assertClose(s.h, [0.25 * Foundation.tanh(0.7)], abs: 1e-15)
    }

    /// clip clamps every pre-activation: a_i = 10 clipped to 1 gives σ(1).
    @Test func testClip() {
        let conv = CellConventions(kind: .rnn, candidateActivation: .identity, clip: 1)
        let p = CellParameters<Double>(w: Tensor(shape: [2, 1], scalars: [10, -0.5]), r: Tensor(zeros: [2, 2]))
        let cell = RecurrentCell(conventions: conv, parameters: p)
        let s = cell.forward(x: Tensor(shape: [1, 1], scalars: [1]), hPrev: Tensor(zeros: [1, 2]))
        assertClose(s.h, [1, -0.5])
        assertClose(s.preactivations ?? Tensor(zeros: [0]), [10, -0.5])
    }

    /// GRU: z = 3/4, r = 1/4 from biases; R_n = 1, h_prev = 4 ln 2 (H = 1).
    /// Before the matmul: a_n = 1·(r·h_prev) + b_Rn; after: a_n = r·(h_prev + b_Rn).
    @Test func testGRUResetPlacementAndUpdateSide() {
        let hp = 4 * ln2, brn = 4 * ln3 - 4 * ln2
        for placement in ResetPlacement.allCases {
            for side in UpdateSide.allCases {
                let conv = CellConventions(
                    kind: .gru, gateOrder: [.z, .r, .n], resetPlacement: placement, updateSide: side)
                let p = CellParameters<Double>(
                    w: Tensor(zeros: [3, 1]), r: Tensor(shape: [3, 1], scalars: [0, 0, 1]),
                    bw: Tensor([ln3, -ln3, 0]), br: Tensor([0, 0, brn]))
                let s = RecurrentCell(conventions: conv, parameters: p)
                    .forward(x: Tensor(shape: [1, 1], scalars: [0.7]), hPrev: Tensor(shape: [1, 1], scalars: [hp]))
                let n = placement == .afterMatmul ? 0.8 /* tanh(0.25 · 4 ln 3) */ : Foundation.tanh(ln2 + brn)
                assertClose(s.gate(.z, of: conv), [0.75], abs: 1e-15)
                assertClose(s.gate(.r, of: conv), [0.25], abs: 1e-15)
                assertClose(s.gate(.n, of: conv), [n], abs: 1e-15)
                let h = side == .candidate ? 0.25 * hp + 0.75 * n : 0.75 * hp + 0.25 * n
                assertClose(s.h, [h], abs: 1e-14, "\(placement) \(side)")
            }
        }
    }

    /// Seed 000 §8 (NumPy 2.4.6, tools/reference/seed000.py): one matrix per gate over [x, h], no biases.
    @Test func testSeed000GRU() {
        let x: [Double] = [1.9724738539297917, 0.20916747233627678, -0.5924100997529326]
        let hp: [Double] = [-0.12597918998664273, -0.07249854561981205, 0.10873738347811868, -0.03002781322943489]
        // The check here is structural (concat split and gate order); the seed's numbers are in cases/theory.
        let m = TestRNG(7).tensorCopy([12, 7])
        let conv = CellConventions(
            kind: .gru, gateOrder: [.z, .r, .n], resetPlacement: .beforeMatmul, updateSide: .candidate)
        let cell = RecurrentCell(conventions: conv, parameters: .concatenated(m, inputSize: 3, order: .xh))
        let s = cell.forward(x: Tensor(shape: [1, 3], scalars: x), hPrev: Tensor(shape: [1, 4], scalars: hp))
        // By hand with NumPy-style loops.
        func row(_ r: Int) -> [Double] { Array(m.scalars[(r * 7)..<((r + 1) * 7)]) }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        let concat = x + hp
        let z = (0..<4).map { 1 / (1 + Foundation.exp(-dot(row($0), concat))) }
        let r = (0..<4).map { 1 / (1 + Foundation.exp(-dot(row(4 + $0), concat))) }
        let concatReset = x + (0..<4).map { r[$0] * hp[$0] }
        let n = (0..<4).map { Foundation.tanh(dot(row(8 + $0), concatReset)) }
        let h = (0..<4).map { (1 - z[$0]) * hp[$0] + z[$0] * n[$0] }
        assertClose(s.h, h, abs: 1e-15)
    }
}

extension TestRNG {
    func tensorCopy(_ shape: [Int]) -> Tensor<Double> { var g = self; return g.tensor(shape) }
}

/// A configuration for the gradient checks.
struct GradCase {
    var name: String
    var conventions: CellConventions
    var biases = true
    var recurrentBias = true
    var peepholes = false
    var projection: Int? = nil
}

@Suite final class RecurrentCellGradientTests {
    static let cases: [GradCase] = [
        GradCase(name: "rnn tanh", conventions: CellConventions(kind: .rnn)),
        GradCase(
            name: "rnn relu no bias", conventions: CellConventions(kind: .rnn, candidateActivation: .relu),
            biases: false),
        GradCase(name: "lstm torch", conventions: CellConventions(kind: .lstm)),
        GradCase(
            name: "lstm seed000 order, one bias",
            conventions: CellConventions(kind: .lstm, gateOrder: [.f, .i, .o, .g]),
            recurrentBias: false),
        GradCase(
            name: "lstm onnx peepholes clip",
            conventions: CellConventions(kind: .lstm, gateOrder: [.i, .o, .f, .g], clip: 0.6),
            peepholes: true),
        GradCase(
            name: "lstm input_forget peepholes",
            conventions: CellConventions(kind: .lstm, gateOrder: [.i, .o, .f, .g], inputForget: true),
            peepholes: true),
        GradCase(name: "lstm projection", conventions: CellConventions(kind: .lstm), projection: 2),
        GradCase(
            name: "lstm odd activations",
            conventions: CellConventions(
                kind: .lstm, gateActivation: CellActivation(.hardsigmoid, alpha: 0.3, beta: 0.4),
                candidateActivation: CellActivation(.softsign), outputActivation: CellActivation(.elu, alpha: 0.7))),
        GradCase(name: "gru torch", conventions: CellConventions(kind: .gru)),
        GradCase(
            name: "gru seeds",
            conventions: CellConventions(
                kind: .gru, gateOrder: [.z, .r, .n], resetPlacement: .beforeMatmul,
                updateSide: .candidate)),
        GradCase(
            name: "gru before, previous side, clip",
            conventions: CellConventions(
                kind: .gru, gateOrder: [.z, .r, .n],
                clip: 0.5, resetPlacement: .beforeMatmul)),
        GradCase(
            name: "gru after, candidate side, scaledtanh/softplus",
            conventions: CellConventions(
                kind: .gru, gateOrder: [.z, .r, .n], gateActivation: CellActivation(.softplus),
                candidateActivation: CellActivation(.scaledtanh, alpha: 1.3, beta: 0.7), updateSide: .candidate)),
    ]

    /// Random weights for a case, in Double.
    static func parameters(_ c: GradCase, inputSize i: Int, hidden h: Int, seed: UInt64) -> CellParameters<Double> {
        var rng = TestRNG(seed)
        let g = c.conventions.kind.gateCount, s = c.projection ?? h
        var p = CellParameters<Double>(w: rng.tensor([g * h, i]), r: rng.tensor([g * h, s]))
        if c.biases { p.bw = rng.tensor([g * h]) }
        if c.biases && c.recurrentBias { p.br = rng.tensor([g * h]) }
        if c.peepholes { p.peepholeI = rng.tensor([h]); p.peepholeF = rng.tensor([h]); p.peepholeO = rng.tensor([h]) }
        if let s = c.projection { p.projection = rng.tensor([s, h]) }
        return p
    }

    /// L = Σ a ⊙ h + Σ b ⊙ c for one step, in Double.
    static func loss(
        _ cell: RecurrentCell<Double>, x: Tensor<Double>, hp: Tensor<Double>, cp: Tensor<Double>?,
        a: Tensor<Double>, b: Tensor<Double>?
    ) -> Double {
        let s = cell.forward(x: x, hPrev: hp, cPrev: cp)
        var l = zip(s.h.scalars, a.scalars).reduce(0) { $0 + $1.0 * $1.1 }
        if let c = s.cellState, let b { l += zip(c.scalars, b.scalars).reduce(0) { $0 + $1.0 * $1.1 } }
        return l
    }

    /// Analytic gradients in precision T against central differences of the Double cell.
    func check<T: KernelScalar>(_ c: GradCase, as _: T.Type, tolerance: Double) {
        let bsz = 3, i = 3, h = 4
        let pd = Self.parameters(c, inputSize: i, hidden: h, seed: 11)
        let s = c.projection ?? h
        var rng = TestRNG(99)
        let x = rng.tensor([bsz, i]), hp = rng.tensor([bsz, s], scale: 0.8)
        let isLSTM = c.conventions.kind == .lstm
        let cp: Tensor<Double>? = isLSTM ? rng.tensor([bsz, h], scale: 1.5) : nil
        let a = rng.tensor([bsz, s]), b: Tensor<Double>? = isLSTM ? rng.tensor([bsz, h]) : nil

        // Analytic, in T.
        let cellT = RecurrentCell<T>(conventions: c.conventions, parameters: pd.converted(to: T.self))
        let cache = cellT.forward(x: x.converted(), hPrev: hp.converted(), cPrev: cp?.converted())
        var grads = CellGradients(zerosLike: cellT)
        let dIn = cellT.backward(cache, dh: a.converted(), dc: b?.converted(), into: &grads)

        // Numeric, in Double.
        let eps = 1e-6
        func numeric(
            _ perturb: (
                inout CellParameters<Double>, inout Tensor<Double>, inout Tensor<Double>, inout Tensor<Double>?, Double
            ) -> Void
        ) -> Double {
            var p1 = pd, x1 = x, h1 = hp, c1 = cp
            perturb(&p1, &x1, &h1, &c1, eps)
            let lp = Self.loss(
                RecurrentCell(conventions: c.conventions, parameters: p1), x: x1, hp: h1, cp: c1, a: a, b: b)
            var p2 = pd, x2 = x, h2 = hp, c2 = cp
            perturb(&p2, &x2, &h2, &c2, -eps)
            let lm = Self.loss(
                RecurrentCell(conventions: c.conventions, parameters: p2), x: x2, hp: h2, cp: c2, a: a, b: b)
            return (lp - lm) / (2 * eps)
        }
        func compare(
            _ label: String, _ analytic: Tensor<T>, count: Int,
            _ perturb:
                @escaping (Int) -> (
                    inout CellParameters<Double>, inout Tensor<Double>, inout Tensor<Double>, inout Tensor<Double>?,
                    Double
                ) -> Void
        ) {
            for k in 0..<count {
                let n = numeric(perturb(k))
                let an = Double(analytic.scalars[k])
                XCTAssertEqual(
                    an, n, accuracy: tolerance * Swift.max(1, Swift.abs(n)), "\(c.name) [\(T.self)] d\(label)[\(k)]")
            }
        }
        compare("W", grads.w, count: pd.w.count) { k in { p, _, _, _, e in p.w.scalars[k] += e } }
        compare("R", grads.r, count: pd.r.count) { k in { p, _, _, _, e in p.r.scalars[k] += e } }
        if pd.bw != nil {
            compare("bW", grads.bw, count: grads.bw.count) { k in { p, _, _, _, e in p.bw!.scalars[k] += e } }
        }
        if pd.br != nil {
            compare("bR", grads.br, count: grads.br.count) { k in { p, _, _, _, e in p.br!.scalars[k] += e } }
        }
        if c.peepholes {
            compare("p_i", grads.peepholeI, count: h) { k in { p, _, _, _, e in p.peepholeI!.scalars[k] += e } }
            compare("p_f", grads.peepholeF, count: h) { k in { p, _, _, _, e in p.peepholeF!.scalars[k] += e } }
            compare("p_o", grads.peepholeO, count: h) { k in { p, _, _, _, e in p.peepholeO!.scalars[k] += e } }
        }
        if let proj = grads.projection {
            compare("W_hr", proj, count: proj.count) { k in { p, _, _, _, e in p.projection!.scalars[k] += e } }
        }
        compare("x", dIn.x, count: x.count) { k in { _, x, _, _, e in x.scalars[k] += e } }
        compare("h_prev", dIn.hPrev, count: hp.count) { k in { _, _, h, _, e in h.scalars[k] += e } }
        if let dc = dIn.cPrev {
            compare("c_prev", dc, count: dc.count) { k in { _, _, _, c, e in c!.scalars[k] += e } }
        }
    }

    @Test func testBackwardStepDouble() {
        for c in Self.cases { check(c, as: Double.self, tolerance: 1e-7) }
    }

    @Test func testBackwardStepFloatAgainstDoubleReference() {
        for c in Self.cases { check(c, as: Float.self, tolerance: 2e-5) }
    }

    /// Gradients add into what is there: two backward calls give twice one.
    @Test func testBackwardAccumulates() {
        let c = Self.cases[2]
        let cell = RecurrentCell(
            conventions: c.conventions, parameters: Self.parameters(c, inputSize: 2, hidden: 3, seed: 5))
        var rng = TestRNG(3)
        let cache = cell.forward(x: rng.tensor([2, 2]), hPrev: rng.tensor([2, 3]), cPrev: rng.tensor([2, 3]))
        let dh = rng.tensor([2, 3])
        var once = CellGradients(zerosLike: cell), twice = CellGradients(zerosLike: cell)
        _ = cell.backward(cache, dh: dh, into: &once)
        _ = cell.backward(cache, dh: dh, into: &twice)
        _ = cell.backward(cache, dh: dh, into: &twice)
        assertClose(twice.w, once.w.scalars.map { 2 * $0 }, abs: 1e-14)
        assertClose(twice.br, once.br.scalars.map { 2 * $0 }, abs: 1e-14)
    }
}

@Suite final class RecurrentSequenceTests {
    /// Lengths: steps past a sequence's end output 0 and keep the state; reverse starts at the last real step.
    @Test func testLengthsAndReverse() {
        var rng = TestRNG(21)
        let cell = RecurrentCell(
            conventions: CellConventions(kind: .gru),
            parameters: CellParameters<Double>(w: rng.tensor([6, 2]), r: rng.tensor([6, 2]), bw: rng.tensor([6])))
        let x = rng.tensor([4, 2, 2])
        let mask = lengthMask(lengths: [4, 2], steps: 4)
        for direction in SequenceDirection.allCases {
            let run = runSequence(cell, x: x, mask: mask, direction: direction)
            // Sequence 1 alone, truncated to its 2 steps.
            let x1 = Tensor(shape: [2, 1, 2], scalars: [x.scalars[2], x.scalars[3], x.scalars[6], x.scalars[7]])
            let alone = runSequence(cell, x: x1, direction: direction)
            assertClose(Tensor(shape: [2], scalars: Array(run.hLast.scalars[2..<4])), alone.hLast.scalars, abs: 1e-15)
            for t in 0..<2 {
                XCTAssertEqual(
                    Array(run.outputs.scalars[(t * 4 + 2)..<(t * 4 + 4)]),
                    Array(alone.outputs.scalars[(t * 2)..<(t * 2 + 2)]))
            }
            for t in 2..<4 { XCTAssertEqual(Array(run.outputs.scalars[(t * 4 + 2)..<(t * 4 + 4)]), [0, 0]) }
        }
    }

    @Test func testPermutedAndConcat() {
        let t = Tensor<Double>(shape: [2, 3, 2], scalars: (0..<12).map(Double.init))
        let p = t.permuted([1, 0, 2])
        XCTAssertEqual(p.shape, [3, 2, 2])
        XCTAssertEqual(p.scalars, [0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11])
        let c = concatenatedLastAxis([
            Tensor<Double>(shape: [2, 1], scalars: [1, 2]), Tensor<Double>(shape: [2, 2], scalars: [3, 4, 5, 6]),
        ])
        XCTAssertEqual(c.scalars, [1, 3, 4, 2, 5, 6])
    }
}

@Suite final class CellElementwiseTests {
    @Test func testCellUpdateAndBlendByHand() {
        for dtype in [Float.self as any KernelScalar.Type, Double.self] {
            func check<T: KernelScalar>(_: T.Type) {
                let r = lstmCellUpdate(
                    forget: Tensor<T>([0.5, 0.25]), input: Tensor([0.5, 1]), candidate: Tensor([1, -0.5]),
                    previous: Tensor([2, 4]), output: Tensor([1, 0]))
                // c = [0.5·2 + 0.5·1, 0.25·4 − 0.5] = [1.5, 0.5]; h = [tanh 1.5, 0].
                XCTAssertEqual(r.c.scalars, [1.5, 0.5])
                XCTAssertEqual(r.h!.scalars, [T.tanh(1.5), 0])
                let h = gruBlend(update: Tensor<T>([0.25, 1]), previous: Tensor([4, 4]), candidate: Tensor([0, -1]))
                XCTAssertEqual(h.scalars, [3, -1])
                let p = gruBlend(
                    update: Tensor<T>([0.25, 1]), previous: Tensor([4, 4]), candidate: Tensor([0, -1]), side: .previous)
                XCTAssertEqual(p.scalars, [1, 4])
            }
            check(dtype)
        }
    }

    /// ∂c/∂c_prev from the backward step is f (no peepholes).
    @Test func testCellJacobianDiagonalIsForgetGate() {
        var rng = TestRNG(8)
        let cell = RecurrentCell(
            conventions: CellConventions(kind: .lstm, gateOrder: [.f, .i, .o, .g]),
            parameters: CellParameters<Double>(w: rng.tensor([8, 3]), r: rng.tensor([8, 2]), bw: rng.tensor([8])))
        let s = cell.forward(x: rng.tensor([2, 3]), hPrev: rng.tensor([2, 2]), cPrev: rng.tensor([2, 2]))
        assertClose(lstmCellJacobianDiagonal(cell, s), s.gate(.f, of: cell.conventions).scalars, abs: 1e-15)
    }
}

@Suite final class SequenceSemanticsTests {
    func cell() -> RecurrentCell<Double> {
        var rng = TestRNG(17)
        return RecurrentCell(
            conventions: CellConventions(kind: .rnn),
            parameters: CellParameters(w: rng.tensor([2, 2]), r: rng.tensor([2, 2]), bw: rng.tensor([2])))
    }

    /// Keras masks: a masked step repeats the previous output (0 before any real step) and keeps the state.
    @Test func testMaskedStepRepeatsPreviousOutput() {
        let c = cell()
        var rng = TestRNG(2)
        let x = rng.tensor([4, 1, 2])
        let mask = Tensor<Bool>(shape: [4, 1], scalars: [false, true, false, true])
        let run = runSequence(c, x: x, mask: mask, maskedOutput: .previous)
        let o = run.outputs.scalars
        XCTAssertEqual(Array(o[0..<2]), [0, 0])
        XCTAssertEqual(Array(o[4..<6]), Array(o[2..<4]))
        // Step 3 reads the state after step 1 (step 2 was masked). (A sequence multiplies by R packed
        // once, a lone step by R as stored: equal up to rounding.)
        let h1 = c.forward(x: x.slice(1), hPrev: Tensor(zeros: [1, 2])).h
        assertClose(Array(o[2..<4]), h1.scalars, abs: 1e-15, rel: 1e-14)
        assertClose(run.hLast.scalars, c.forward(x: x.slice(3), hPrev: h1).h.scalars, abs: 1e-15, rel: 1e-14)
    }

    /// go_backwards: outputs in processing order are the reverse of the time-ordered reverse run.
    @Test func testProcessingOrderOutputs() {
        let c = cell()
        var rng = TestRNG(4)
        let x = rng.tensor([3, 2, 2])
        let timeOrder = runSequence(c, x: x, direction: .reverse)
        let processing = runSequence(c, x: x, direction: .reverse, outputsInProcessingOrder: true)
        for k in 0..<3 { XCTAssertEqual(processing.outputs.slice(k), timeOrder.outputs.slice(2 - k)) }
        XCTAssertEqual(processing.hLast, timeOrder.hLast)
    }

    /// Stacked bidirectional: layer 2 reads [forward ‖ reverse] of layer 1.
    @Test func testStackFeedsConcatenatedDirections() {
        var rng = TestRNG(6)
        func rnn(_ i: Int) -> RecurrentCell<Double> {
            RecurrentCell(
                conventions: CellConventions(kind: .rnn),
                parameters: CellParameters(w: rng.tensor([2, i]), r: rng.tensor([2, 2])))
        }
        let layers = [[rnn(3), rnn(3)], [rnn(4), rnn(4)]]
        let x = rng.tensor([3, 1, 3])
        let run = runStack(layers, directions: [.forward, .reverse], x: x)
        XCTAssertEqual(run.output.shape, [3, 1, 4])
        let l1 = concatenatedLastAxis([
            runSequence(layers[0][0], x: x).outputs, runSequence(layers[0][1], x: x, direction: .reverse).outputs,
        ])
        XCTAssertEqual(run.runs[1][1].outputs, runSequence(layers[1][1], x: l1, direction: .reverse).outputs)
    }
}

/// The step split by hidden unit over two threads computes what the unsplit step computes.
@Suite final class SplitStepTests {
    func check<T: KernelScalar>(_: T.Type, _ conventions: CellConventions, peepholes: Bool = false, tolerance: Double) {
        var rng = TestRNG(23)
        func rand(_ shape: [Int]) -> Tensor<T> { rng.tensor(shape, scale: 0.5).converted() }
        let b = 5, i = 7, h = 37, g = conventions.kind.gateCount
        let cell = RecurrentCell(
            conventions: conventions,
            parameters: CellParameters(
                w: rand([g * h, i]), r: rand([g * h, h]), bw: rand([g * h]), br: rand([g * h]),
                peepholeI: peepholes ? rand([h]) : nil, peepholeF: peepholes ? rand([h]) : nil,
                peepholeO: peepholes ? rand([h]) : nil))
        let x = rand([b, i]), hPrev = rand([b, h]), cPrev = conventions.kind == .lstm ? rand([b, h]) : nil
        let projected = cell.projectInputs(x.scalars, rows: b)
        let plain = cell.forward(x: x, projected: projected, hPrev: hPrev, cPrev: cPrev)
        for parts in [2, 3] {
            let split = cell.forward(
                x: x, projected: projected, hPrev: hPrev, cPrev: cPrev, split: cell.splitRecurrent(parts: parts))
            let label = "\(conventions.kind) \(T.self) parts \(parts)"
            assertClose(split.h.scalars, plain.h.scalars.map(Double.init), abs: tolerance, rel: tolerance, label + " h")
            assertClose(
                split.gates.scalars, plain.gates.scalars.map(Double.init), abs: tolerance, rel: tolerance,
                label + " gates")
            assertClose(
                split.preactivations?.scalars ?? [], (plain.preactivations?.scalars ?? []).map(Double.init),
                abs: tolerance, rel: tolerance, label + " pre")
            switch (plain.state, split.state) {
            case (.rnn, .rnn): break
            case (.lstm(_, let c, _), .lstm(_, let sc, _)):
                assertClose(sc.scalars, c.scalars.map(Double.init), abs: tolerance, rel: tolerance, label + " c")
            case (.gru(let u), .gru(let su)):
                assertClose(su.scalars, u.scalars.map(Double.init), abs: tolerance, rel: tolerance, label + " u")
            default: XCTFail("\(label): the split step kept another family's state")
            }
        }
    }

    @Test func testSplitMatchesUnsplit() {
        for (t, tol) in [(Float.self as any KernelScalar.Type, 1e-5), (Double.self, 1e-13)] {
            func run<T: KernelScalar>(_: T.Type) {
                check(T.self, CellConventions(kind: .rnn), tolerance: tol)
                check(T.self, CellConventions(kind: .lstm), tolerance: tol)
                check(
                    T.self, CellConventions(kind: .lstm, gateOrder: [.i, .o, .f, .g]), peepholes: true, tolerance: tol)
                check(T.self, CellConventions(kind: .gru, gateOrder: [.z, .r, .n]), tolerance: tol)
            }
            run(t)
        }
    }
}

/// A forward pass alone (buffers reused, no caches) computes exactly what a pass keeping caches does.
@Suite final class ForwardOnlyTests {
    @Test func testForwardOnlyIsBitIdentical() {
        var rng = TestRNG(29)
        func rand(_ shape: [Int]) -> Tensor<Double> { rng.tensor(shape, scale: 0.8) }
        let steps = 6, b = 3, i = 4, h = 5
        let conventions: [(CellConventions, Bool)] = [
            (CellConventions(kind: .rnn), false), (CellConventions(kind: .lstm), false),
            (CellConventions(kind: .lstm), true),
            (CellConventions(kind: .gru), false),
            (CellConventions(kind: .gru, resetPlacement: .beforeMatmul, updateSide: .candidate), false),
            (CellConventions(kind: .lstm, gateOrder: [.i, .o, .f, .g], clip: 0.5, inputForget: true), false),
        ]
        for (conv, projection) in conventions {
            let g = conv.kind.gateCount, p = projection ? 2 : h
            let cell = RecurrentCell(
                conventions: conv,
                parameters: CellParameters(
                    w: rand([g * h, i]), r: rand([g * h, p]), bw: rand([g * h]), br: rand([g * h]),
                    peepholeI: conv.kind == .lstm ? rand([h]) : nil, projection: projection ? rand([p, h]) : nil))
            let x = rand([steps, b, i]), h0 = rand([b, p]), c0 = conv.kind == .lstm ? rand([b, h]) : nil
            let mask = Tensor<Bool>(shape: [steps, b], scalars: (0..<(steps * b)).map { $0 % 4 != 1 })
            for direction in SequenceDirection.allCases {
                for maskedOutput in MaskedStepOutput.allCases {
                    let kept = runSequence(
                        cell, x: x, h0: h0, c0: c0, mask: mask, direction: direction, maskedOutput: maskedOutput,
                        outputsInProcessingOrder: direction == .reverse)
                    let alone = runSequence(
                        cell, x: x, h0: h0, c0: c0, mask: mask, direction: direction, maskedOutput: maskedOutput,
                        outputsInProcessingOrder: direction == .reverse, keepCaches: false)
                    let label = "\(conv.kind) projection \(projection) \(direction) \(maskedOutput)"
                    XCTAssertEqual(kept.outputs, alone.outputs, label)
                    XCTAssertEqual(kept.hLast, alone.hLast, label)
                    XCTAssertEqual(kept.cLast, alone.cLast, label)
                    XCTAssertTrue(alone.caches.isEmpty, label)
                }
            }
        }
    }
}

/// The LSTM backward step that multiplies each thread's rows of da by the packed R (large batches)
/// gives the gradients of the plain step.
@Suite final class FusedBackwardStepTests {
    @Test func testFusedRowsProductMatchesPlainStep() throws {
        try XCTSkipUnless(
            packedGemmAvailable, "no packed kernels on this CPU: the backward step never fuses the product")
        var rng = TestRNG(31)
        func rand(_ shape: [Int]) -> Tensor<Double> { rng.tensor(shape, scale: 0.5) }
        let b = 8, i = 3, h = 256  // b · 4h · h = 2^21 multiply-adds: the fused path
        let cell = RecurrentCell(
            conventions: CellConventions(kind: .lstm),
            parameters: CellParameters(
                w: rand([4 * h, i]), r: rand([4 * h, h]), bw: rand([4 * h]), peepholeI: rand([h])))
        let cache = cell.forward(x: rand([b, i]), hPrev: rand([b, h]), cPrev: rand([b, h]))
        let dh = rand([b, h]), dc = rand([b, h])
        var plainGrads = CellGradients(zerosLike: cell), fusedGrads = plainGrads
        let packedR = cell.packedRecurrent()
        XCTAssertTrue(cell.fusesRowProduct(batch: b, packedR: packedR), "the step must take the fused path")
        XCTAssertFalse(cell.fusesRowProduct(batch: b, packedR: nil))
        let plain = cell.backwardStep(cache, dh: dh, dc: dc, into: &plainGrads)
        let fused = cell.backwardStep(cache, dh: dh, dc: dc, packedR: packedR, into: &fusedGrads)
        // One product on panels per thread's rows (gemmRows), none after the rows: the fused path ran.
        XCTAssertGreaterThanOrEqual(
            packedR.productCount, 1, "the fused step ran the packed kernel on R's panels")
        XCTAssertLessThanOrEqual(
            packedR.productCount, elementwiseThreads, "one packed product per thread's rows")
        assertClose(fused.hPrev.scalars, plain.hPrev.scalars, abs: 1e-12, rel: 1e-12, "dh_prev")
        XCTAssertEqual(fused.da, plain.da)
        XCTAssertEqual(fused.cPrev, plain.cPrev)
        XCTAssertEqual(fusedGrads.peepholeI, plainGrads.peepholeI)
    }

    @Test func testFusedRowsProductMatchesPlainGRUStep() throws {
        try XCTSkipUnless(
            packedGemmAvailable, "no packed kernels on this CPU: the backward step never fuses the product")
        var rng = TestRNG(37)
        func rand(_ shape: [Int]) -> Tensor<Double> { rng.tensor(shape, scale: 0.5) }
        let b = 11, i = 3, h = 256  // b · 3h · h > 2^21 multiply-adds: the fused path
        let cell = RecurrentCell(
            conventions: CellConventions(kind: .gru),
            parameters: CellParameters(
                w: rand([3 * h, i]), r: rand([3 * h, h]), bw: rand([3 * h]), br: rand([3 * h])))
        let cache = cell.forward(x: rand([b, i]), hPrev: rand([b, h]))
        let dh = rand([b, h])
        var plainGrads = CellGradients(zerosLike: cell), fusedGrads = plainGrads
        let packedR = cell.packedRecurrent()
        XCTAssertTrue(cell.fusesRowProduct(batch: b, packedR: packedR), "the step must take the fused path")
        let plain = cell.backwardStep(cache, dh: dh, into: &plainGrads)
        let fused = cell.backwardStep(cache, dh: dh, packedR: packedR, into: &fusedGrads)
        XCTAssertGreaterThanOrEqual(
            packedR.productCount, 1, "the fused step ran the packed kernel on R's panels")
        XCTAssertLessThanOrEqual(
            packedR.productCount, elementwiseThreads, "one packed product per thread's rows")
        assertClose(fused.hPrev.scalars, plain.hPrev.scalars, abs: 1e-12, rel: 1e-12, "dh_prev")
        XCTAssertEqual(fused.da, plain.da)
        XCTAssertEqual(fused.dRecurrent, plain.dRecurrent)
    }
}
