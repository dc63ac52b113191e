import Foundation
import TestAssertions
import Testing

@testable import RNNKernels

/// `runSequenceBackward`, `runStackBackward` and `cellSequenceForward` with probes against central finite
/// differences of L = Σ dOutputs⊙outputs + Σ dhLast⊙hLast (+ Σ dcLast⊙cLast) computed in Double;
/// written once generic, run for Float and Double (Float compared with the Double reference).
@Suite final class RecurrentSequenceBackwardTests {
    let steps = 5, batch = 3, input = 2, hidden = 3
    /// Sequence 0 is all real; 1 has steps 1 and 3 masked (Keras-style holes); 2 has length 2.
    var mask: Tensor<Bool> {
        Tensor(shape: [steps, batch], scalars: (0..<steps).flatMap { t in [true, t != 1 && t != 3, t < 2] })
    }

    /// Everything a sequence run is made of, drawn once in Double.
    struct Setup {
        var params: CellParameters<Double>
        var x, h0, c0, dOut, dh, dc: Tensor<Double>
    }

    func conventions(_ kind: CellKind) -> CellConventions {
        switch kind {
        case .rnn: return CellConventions(kind: .rnn)
        case .gru: return CellConventions(kind: .gru, gateOrder: [.z, .r, .n], resetPlacement: .beforeMatmul)
        case .lstm: return CellConventions(kind: .lstm, gateOrder: [.i, .o, .f, .g], clip: 2.5)
        }
    }

    func setup(_ kind: CellKind, seed: UInt64, inputSize: Int? = nil, outputs: Int? = nil) -> Setup {
        var rng = TestRNG(seed)
        let gh = kind.gateCount * hidden, inp = inputSize ?? input
        var p = CellParameters(
            w: rng.tensor([gh, inp]), r: rng.tensor([gh, hidden]), bw: rng.tensor([gh], scale: 0.3),
            br: rng.tensor([gh], scale: 0.3))
        if kind == .lstm {
            p.peepholeI = rng.tensor([hidden]); p.peepholeF = rng.tensor([hidden]); p.peepholeO = rng.tensor([hidden])
        }
        return Setup(
            params: p, x: rng.tensor([steps, batch, inp], scale: 1.5), h0: rng.tensor([batch, hidden]),
            c0: rng.tensor([batch, hidden]), dOut: rng.tensor([steps, batch, outputs ?? hidden]),
            dh: rng.tensor([batch, hidden]), dc: rng.tensor([batch, hidden]))
    }

    struct Options {
        var direction: SequenceDirection
        var masked: Bool
        var maskedOutput: MaskedStepOutput
        var processingOrder: Bool
    }

    func run<T: KernelScalar>(_ kind: CellKind, _ s: Setup, _ o: Options, _: T.Type) -> (
        SequenceRun<T>, RecurrentCell<T>
    ) {
        let cell = RecurrentCell(conventions: conventions(kind), parameters: s.params.converted(to: T.self))
        let run = runSequence(
            cell, x: s.x.converted(), h0: s.h0.converted(), c0: kind == .lstm ? s.c0.converted() : nil,
            mask: o.masked ? mask : nil, direction: o.direction, maskedOutput: o.maskedOutput,
            outputsInProcessingOrder: o.processingOrder)
        return (run, cell)
    }

    func loss(_ kind: CellKind, _ s: Setup, _ o: Options) -> Double {
        let (r, _) = run(kind, s, o, Double.self)
        var pairs = [(upstream: s.dOut, value: r.outputs), (upstream: s.dh, value: r.hLast)]
        if let c = r.cLast { pairs.append((s.dc, c)) }
        return upstreamLoss(pairs)
    }

    /// Central differences of `loss` with respect to one tensor of the setup.
    func finiteDifferences(_ kind: CellKind, _ s: Setup, _ o: Options, _ path: WritableKeyPath<Setup, Tensor<Double>>)
        -> [Double]
    {
        let eps = 1e-6
        return (0..<s[keyPath: path].count).map { i in
            var plus = s, minus = s
            plus[keyPath: path].scalars[i] += eps
            minus[keyPath: path].scalars[i] -= eps
            return (loss(kind, plus, o) - loss(kind, minus, o)) / (2 * eps)
        }
    }

    func sequenceGradientsAgree<T: KernelScalar>(_: T.Type) throws {
        let tol = T.self == Float.self ? 2e-3 : 1e-6
        let variants = [
            Options(direction: .forward, masked: false, maskedOutput: .zero, processingOrder: false),
            Options(direction: .reverse, masked: true, maskedOutput: .zero, processingOrder: false),
            Options(direction: .forward, masked: true, maskedOutput: .previous, processingOrder: false),
            Options(direction: .reverse, masked: true, maskedOutput: .previous, processingOrder: true),
        ]
        for kind in CellKind.allCases {
            for (v, o) in variants.enumerated() {
                let s = setup(kind, seed: UInt64(10 * v + kind.gateCount))
                let (r, cell) = run(kind, s, o, T.self)
                let g = try runSequenceBackward(
                    cell, run: r, mask: o.masked ? mask : nil, maskedOutput: o.maskedOutput,
                    outputsInProcessingOrder: o.processingOrder, dOutputs: s.dOut.converted(),
                    dhLast: s.dh.converted(), dcLast: kind == .lstm ? s.dc.converted() : nil)
                let label = "\(kind) \(o) \(T.self)"
                assertClose(
                    g.cell.w.scalars, finiteDifferences(kind, s, o, \.params.w), abs: tol, rel: tol, "dW \(label)")
                assertClose(
                    g.cell.r.scalars, finiteDifferences(kind, s, o, \.params.r), abs: tol, rel: tol, "dR \(label)")
                assertClose(g.x.scalars, finiteDifferences(kind, s, o, \.x), abs: tol, rel: tol, "dx \(label)")
                assertClose(g.h0.scalars, finiteDifferences(kind, s, o, \.h0), abs: tol, rel: tol, "dh0 \(label)")
                if kind == .lstm {
                    assertClose(g.c0!.scalars, finiteDifferences(kind, s, o, \.c0), abs: tol, rel: tol, "dc0 \(label)")
                    let pk: WritableKeyPath<Setup, Tensor<Double>> = \.params.peepholeO!
                    assertClose(
                        g.cell.peepholeO.scalars, finiteDifferences(kind, s, o, pk), abs: tol, rel: tol, "dp_o \(label)"
                    )
                }
                let bk: WritableKeyPath<Setup, Tensor<Double>> = \.params.br!
                assertClose(g.cell.br.scalars, finiteDifferences(kind, s, o, bk), abs: tol, rel: tol, "db_R \(label)")
            }
        }
    }

    @Test func testSequenceBackwardDouble() throws { try sequenceGradientsAgree(Double.self) }
    @Test func testSequenceBackwardFloat() throws { try sequenceGradientsAgree(Float.self) }

    /// Two bidirectional layers over a masked batch: layer 1 reads layer 0's concatenated outputs.
    func stackGradientsAgree<T: KernelScalar>(_ kind: CellKind, _: T.Type) throws {
        let tol = T.self == Float.self ? 2e-3 : 1e-6
        let layer0 = [setup(kind, seed: 101), setup(kind, seed: 102)]
        let layer1 = [
            setup(kind, seed: 103, inputSize: 2 * hidden, outputs: 2 * hidden),
            setup(kind, seed: 104, inputSize: 2 * hidden),
        ]
        let directions: [SequenceDirection] = [.forward, .reverse]
        func stackLoss(_ w00: Tensor<Double>, _ x: Tensor<Double>) -> Double {
            var p = [layer0.map(\.params), layer1.map(\.params)]
            p[0][0].w = w00
            let cells = p.map { $0.map { RecurrentCell(conventions: conventions(kind), parameters: $0) } }
            let r = runStack(cells, directions: directions, x: x, mask: mask)
            var pairs = [(upstream: layer1[0].dOut, value: r.output)]
            for l in 0..<2 { for d in 0..<2 { pairs.append(([layer0, layer1][l][d].dh, r.runs[l][d].hLast)) } }
            return upstreamLoss(pairs)
        }
        func fd(_ t: Tensor<Double>, _ f: (Tensor<Double>) -> Double) -> [Double] {
            (0..<t.count).map { i in
                var plus = t, minus = t
                plus.scalars[i] += 1e-6
                minus.scalars[i] -= 1e-6
                return (f(plus) - f(minus)) / 2e-6
            }
        }
        let cells: [[RecurrentCell<T>]] = [layer0, layer1].map {
            $0.map { RecurrentCell(conventions: conventions(kind), parameters: $0.params.converted(to: T.self)) }
        }
        let x: Tensor<T> = layer0[0].x.converted()
        let r = runStack(cells, directions: directions, x: x, mask: mask)
        let g = try runStackBackward(
            cells, directions: directions, run: r, mask: mask, dOutput: layer1[0].dOut.converted(),
            dhLast: [layer0, layer1].map { $0.map { $0.dh.converted() } })
        let w00 = layer0[0].params.w, x0 = layer0[0].x
        assertClose(
            g.cells[0][0].w.scalars, fd(w00) { stackLoss($0, x0) }, abs: tol, rel: tol, "dW layer 0 \(kind) \(T.self)")
        assertClose(g.x.scalars, fd(x0) { stackLoss(w00, $0) }, abs: tol, rel: tol, "dx \(kind) \(T.self)")
    }

    @Test func testStackBackward() throws {
        for kind in CellKind.allCases {
            try stackGradientsAgree(kind, Double.self)
            try stackGradientsAgree(kind, Float.self)
        }
    }

    /// Non-zero probes: dh[t] = dL/dprobeH_t and dc[t] = dL/dprobeC_t (the full gradients at h_t, c_t).
    @Test func testProbedSequenceGradientsAreTheProbes() {
        for kind in CellKind.allCases {
            var rng = TestRNG(7)
            let gh = kind.gateCount * hidden
            let cell = RecurrentCell(
                conventions: CellConventions(kind: kind),
                parameters: CellParameters(
                    w: rng.tensor([gh, input]), r: rng.tensor([gh, hidden], scale: 1.5),
                    bw: rng.tensor([gh], scale: 0.3)))
            let x = rng.tensor([steps, batch, input]), dy = rng.tensor([steps, batch, hidden])
            let probeH = rng.tensor([steps, batch, hidden], scale: 0.3)
            let probeC: Tensor<Double>? = kind == .lstm ? rng.tensor([steps, batch, hidden], scale: 0.3) : nil
            func loss(_ ph: Tensor<Double>, _ pc: Tensor<Double>?) -> Double {
                cellSequenceForward(cell, x: x, probeH: ph, probeC: pc, head: .upstream(dy: dy), lossFrom: 1).loss
            }
            let cache = cellSequenceForward(
                cell, x: x, probeH: probeH, probeC: probeC, head: .upstream(dy: dy), lossFrom: 1)
            var g = CellSequenceGradients(
                zerosLike: cell, head: .upstream(dy: dy), steps: steps, batch: batch, recordStateGradients: true)
            cellSequenceBackward(cell, cache: cache, head: .upstream(dy: dy), into: &g)
            let fdH = (0..<probeH.count).map { i -> Double in
                var plus = probeH, minus = probeH
                plus.scalars[i] += 1e-6
                minus.scalars[i] -= 1e-6
                return (loss(plus, probeC) - loss(minus, probeC)) / 2e-6
            }
            assertClose(g.dh!.scalars, fdH, abs: 1e-7, rel: 1e-6, "dprobe_h \(kind)")
            if let probeC {
                let fdC = (0..<probeC.count).map { i -> Double in
                    var plus = probeC, minus = probeC
                    plus.scalars[i] += 1e-6
                    minus.scalars[i] -= 1e-6
                    return (loss(probeH, plus) - loss(probeH, minus)) / 2e-6
                }
                assertClose(g.dc!.scalars, fdC, abs: 1e-7, rel: 1e-6, "dprobe_c \(kind)")
            }
            // With zero probes, the forward values are cellSequenceForward's.
            let plain = cellSequenceForward(cell, x: x, head: .upstream(dy: dy), lossFrom: 1)
            let zero = cellSequenceForward(
                cell, x: x, probeH: Tensor(zeros: probeH.shape), probeC: probeC.map { Tensor(zeros: $0.shape) },
                head: .upstream(dy: dy), lossFrom: 1)
            XCTAssertEqual(plain.h, zero.h, "\(kind)")
            XCTAssertEqual(plain.loss, zero.loss, accuracy: 1e-14, "\(kind)")
        }
    }
}
