import Foundation
import TestAssertions
import Testing

@testable import RNNKernels

/// The fused forward pass (`rnn_sequence_forward_*`, taken by `runSequence` without a mask) computes bit for
/// bit what the step-by-step pass does, its outputs and the step caches it keeps for a backward pass, on one
/// thread and split in two, and agrees with a scalar reference written out here.
@Suite final class FusedSequenceTests {
    /// The LSTM / GRU step written out elementwise in Double (PyTorch equations), as an independent reference.
    static func reference(
        _ cell: RecurrentCell<Double>, x: Tensor<Double>, h0: Tensor<Double>, c0: Tensor<Double>?,
        reverse: Bool
    ) -> (out: [Double], h: [Double], c: [Double]) {
        let conv = cell.conventions, p = cell.parameters
        let steps = x.shape[0], b = x.shape[1], inp = x.shape[2], h = cell.hiddenSize, gh = conv.kind.gateCount * h
        var hs = h0.scalars, cs = c0?.scalars ?? [Double](repeating: 0, count: b * h)
        var out = [Double](repeating: 0, count: steps * b * h)
        func sig(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        for k in 0..<steps {
            let t = reverse ? steps - 1 - k : k
            var hn = hs
            for row in 0..<b {
                // wx[q] = W x + b_W, rh[q] = R h + b_R for storage row q.
                var wx = [Double](repeating: 0, count: gh), rh = wx
                for q in 0..<gh {
                    var s = p.bw?.scalars[q] ?? 0
                    for j in 0..<inp { s += p.w.scalars[q * inp + j] * x.scalars[(t * b + row) * inp + j] }
                    wx[q] = s
                    var u = p.br?.scalars[q] ?? 0
                    for j in 0..<h { u += p.r.scalars[q * h + j] * hs[row * h + j] }
                    rh[q] = u
                }
                for j in 0..<h {
                    func at(_ g: Gate) -> Int { conv.block(g) * h + j }
                    if conv.kind == .lstm {
                        let i = sig(wx[at(.i)] + rh[at(.i)]), f = sig(wx[at(.f)] + rh[at(.f)])
                        let g = Foundation.tanh(wx[at(.g)] + rh[at(.g)]), o = sig(wx[at(.o)] + rh[at(.o)])
                        cs[row * h + j] = f * cs[row * h + j] + i * g
                        hn[row * h + j] = o * Foundation.tanh(cs[row * h + j])
                    } else {
                        let z = sig(wx[at(.z)] + rh[at(.z)]), r = sig(wx[at(.r)] + rh[at(.r)])
                        let n = Foundation.tanh(wx[at(.n)] + r * rh[at(.n)])
                        let hp = hs[row * h + j]
                        hn[row * h + j] = conv.updateSide == .candidate ? (1 - z) * hp + z * n : z * hp + (1 - z) * n
                    }
                }
            }
            hs = hn
            out.replaceSubrange((t * b * h)..<((t + 1) * b * h), with: hs)
        }
        return (out, hs, cs)
    }

    func check<T: KernelScalar>(
        _: T.Type, _ conv: CellConventions, steps: Int, batch: Int, input: Int, hidden: Int,
        recurrentBias: Bool, expectParts: Int?, tolerance: Double, seed: UInt64, projectsPerStep: Bool? = nil,
        keepsCaches: Bool? = nil, splitsRows: Bool? = nil
    ) {
        var rng = TestRNG(seed)
        func rand(_ shape: [Int], _ scale: Double = 0.5) -> Tensor<Double> { rng.tensor(shape, scale: scale) }
        let g = conv.kind.gateCount, h = hidden
        let params = CellParameters(
            w: rand([g * h, input]), r: rand([g * h, h], 1 / Double(h).squareRoot()), bw: rand([g * h]),
            br: recurrentBias ? rand([g * h]) : nil)
        let cellD = RecurrentCell(conventions: conv, parameters: params)
        let cell = RecurrentCell(conventions: conv, parameters: params.converted(to: T.self))
        let xD = rand([steps, batch, input]), h0D = rand([batch, h]), c0D = conv.kind == .lstm ? rand([batch, h]) : nil
        let x: Tensor<T> = xD.converted(), h0: Tensor<T> = h0D.converted(), c0: Tensor<T>? = c0D?.converted()
        let label =
            "\(T.self) \(conv.kind) \(conv.gateOrder) side \(conv.updateSide) T\(steps) B\(batch) I\(input) H\(h)"
        if packedGemmAvailable {
            XCTAssertNotNil(cell.fusedSequenceKind, label)
            if let projectsPerStep {
                XCTAssertEqual(cell.fusedProjectsPerStep(steps: steps, batch: batch), projectsPerStep, label)
            }
            if let expectParts, elementwiseThreads >= expectParts {
                XCTAssertEqual(cell.sequenceSplit(batch: batch)?.ranges.count, expectParts, label)
                XCTAssertEqual(cell.sequenceParts(batch: batch), expectParts, label)
                let perStep = cell.fusedProjectsPerStep(steps: steps, batch: batch)
                XCTAssertEqual(
                    cell.fusedSplitsRows(batch: batch, parts: expectParts, projectsPerStep: perStep),
                    splitsRows ?? false, "\(label): split by batch rows")
            }
        }
        // Outputs in processing order for the reverse direction (Keras `go_backwards`) and in time order for the
        // forward one, then the other way round.
        for (direction, processing) in SequenceDirection.allCases.flatMap({ d in
            [(d, d == .reverse), (d, d != .reverse)]
        }) {
            // The step-by-step path (keeping the pre-activations keeps it off the fused pass).
            let kept = runSequence(
                cell, x: x, h0: h0, c0: c0, direction: direction, outputsInProcessingOrder: processing,
                keepPreactivations: true)
            XCTAssertNil(kept.tape?.fused, label)
            // The fused pass keeping what a backward pass reads: the step caches the step path keeps, bit for bit.
            let taped = runSequence(
                cell, x: x, h0: h0, c0: c0, direction: direction, outputsInProcessingOrder: processing)
            XCTAssertEqual(
                taped.tape?.fused != nil, packedGemmAvailable && cell.fusedKeepsCaches(steps: steps, batch: batch),
                "\(label): the fused pass keeps the caches")
            if let keepsCaches { XCTAssertEqual(cell.fusedKeepsCaches(steps: steps, batch: batch), keepsCaches, label) }
            assertSameBits(taped.outputs, kept.outputs, "\(label) \(direction)")
            assertSameBits(taped.hLast, kept.hLast, "\(label) \(direction)")
            assertSameBits(taped.cLast, kept.cLast, "\(label) \(direction)")
            XCTAssertEqual(taped.steps, kept.steps, "\(label) \(direction)")
            XCTAssertEqual(taped.cacheCount, steps, label)
            for k in 0..<steps {
                let a = taped.stepCache(k), b = kept.stepCache(k)
                XCTAssertNil(a.preactivations, label)
                assertSameBits(a.x, b.x, "\(label) \(direction) step \(k) x")
                assertSameBits(a.hPrev, b.hPrev, "\(label) \(direction) step \(k) h_prev")
                assertSameBits(a.h, b.h, "\(label) \(direction) step \(k) h")
                assertSameBits(a.gates, b.gates, "\(label) \(direction) step \(k) gates")
                switch (a.state, b.state, taped.stepState(k)) {
                case (
                    .lstm(let cPrevA, let cA, let uA), .lstm(let cPrevB, let cB, let uB), .lstm(let cPrevS, let cS, _)
                ):
                    assertSameBits(cPrevA, cPrevB, "\(label) \(direction) step \(k) c_prev")
                    assertSameBits(cA, cB, "\(label) \(direction) step \(k) c")
                    XCTAssertTrue(uA == nil && uB == nil, label)
                    XCTAssertTrue(cPrevS == cPrevA && cS == cA, label)
                case (.gru(let rA), .gru(let rB), .gru(let rS)):
                    assertSameBits(rA, rB, "\(label) \(direction) step \(k) reset input")
                    XCTAssertEqual(rS, rA, label)
                default: XCTFail("\(label) step \(k): states \(a.state), \(b.state)")
                }
            }
            let alone = runSequence(
                cell, x: x, h0: h0, c0: c0, direction: direction, outputsInProcessingOrder: processing,
                keepCaches: false)
            let fused = cell.fusedSequenceRun(
                x: x, h0: h0, c0: c0, direction: direction, outputsInProcessingOrder: processing,
                order: direction == .reverse ? Array((0..<steps).reversed()) : Array(0..<steps))
            XCTAssertEqual(
                fused != nil, packedGemmAvailable, "\(label): the fused pass runs where the packed kernels do")
            if let fused {
                // Called directly, with the time index of each processed step as runSequence passes it.
                XCTAssertEqual(fused.steps, alone.steps, "\(label) \(direction): the steps in processing order")
                assertSameBits(fused.outputs, alone.outputs, "\(label) \(direction): the fused pass called directly")
                assertSameBits(fused.hLast, alone.hLast, "\(label) \(direction): h_last, called directly")
            }
            // The step path projects the inputs a block of 512 rows at a time, a forward pass alone all at once
            // (or per step with the same sums): the same bits where the fused pass keeps the caches; elsewhere
            // a short last block run by another kernel rounds otherwise, and the reference below bounds both.
            if cell.fusedKeepsCaches(steps: steps, batch: batch) {
                assertSameBits(kept.outputs, alone.outputs, "\(label) \(direction)")
                assertSameBits(kept.hLast, alone.hLast, "\(label) \(direction)")
                assertSameBits(kept.cLast, alone.cLast, "\(label) \(direction)")
            }
            XCTAssertEqual(alone.steps, kept.steps, "\(label) \(direction)")
            XCTAssertTrue(alone.caches.isEmpty, label)
            // The scalar reference at the small sizes (the split sizes are pinned to the step path above).
            if batch * hidden > 64 { continue }
            let ref = Self.reference(cellD, x: xD, h0: h0D, c0: c0D, reverse: direction == .reverse)
            // Processing order: output k is time step T−1−k in reverse.
            var want = ref.out
            if processing && direction == .reverse {
                want = []
                for k in 0..<steps { let t = steps - 1 - k; want += ref.out[(t * batch * h)..<((t + 1) * batch * h)] }
            }
            for (k, (got, w)) in zip(alone.outputs.scalars, want).enumerated() where abs(Double(got) - w) > tolerance {
                XCTFail("\(label) \(direction): output \(k) is \(got), reference \(w)")
                break
            }
            for (got, w) in zip(alone.hLast.scalars, ref.h) where abs(Double(got) - w) > tolerance {
                XCTFail("\(label) \(direction): h_last \(got), reference \(w)")
                break
            }
            if let c = alone.cLast {
                for (got, w) in zip(c.scalars, ref.c) where abs(Double(got) - w) > tolerance {
                    XCTFail("\(label) \(direction): c_last \(got), reference \(w)")
                    break
                }
            }
        }
    }

    func run<T: KernelScalar>(_: T.Type, tolerance: Double) {
        let lstm = CellConventions(kind: .lstm), lstmONNX = CellConventions(kind: .lstm, gateOrder: [.i, .o, .f, .g])
        let gru = CellConventions(kind: .gru),
            gruCandidate = CellConventions(kind: .gru, gateOrder: [.z, .r, .n], updateSide: .candidate)
        // One part: batch 1 (the 1-row kernel), several rows, hidden sizes off the vector width.
        for (conv, seed) in [(lstm, UInt64(1)), (lstmONNX, 2), (gru, 3), (gruCandidate, 4)] {
            check(
                T.self, conv, steps: 7, batch: 1, input: 3, hidden: 16, recurrentBias: true, expectParts: 1,
                tolerance: tolerance, seed: seed)
            check(
                T.self, conv, steps: 4, batch: 3, input: 5, hidden: 13, recurrentBias: seed % 2 == 0, expectParts: 1,
                tolerance: tolerance, seed: seed + 10)
        }
        // Two parts (B · G · H² ≥ 2^21), the batch rows split between threads that never meet (the weights a
        // step reads within 4 MiB). T · B = 96 rows of 384 project all steps at once (the dot-product kernel),
        // the others per step inside the kernel. B = 5 and 7: parts of 2 and 3, 3 and 4 rows.
        check(
            T.self, lstm, steps: 3, batch: 32, input: 384, hidden: 128, recurrentBias: true, expectParts: 2,
            tolerance: tolerance, seed: 21, projectsPerStep: false, splitsRows: true)
        check(
            T.self, lstm, steps: 4, batch: 32, input: 9, hidden: 128, recurrentBias: true, expectParts: 2,
            tolerance: tolerance, seed: 23, projectsPerStep: true, splitsRows: true)
        check(
            T.self, gru, steps: 4, batch: 32, input: 4, hidden: 150, recurrentBias: true, expectParts: 2,
            tolerance: tolerance, seed: 22, projectsPerStep: true, splitsRows: true)
        check(
            T.self, lstmONNX, steps: 3, batch: 5, input: 7, hidden: 330, recurrentBias: true, expectParts: 2,
            tolerance: tolerance, seed: 24, splitsRows: true)
        check(
            T.self, gruCandidate, steps: 3, batch: 7, input: 6, hidden: 320, recurrentBias: true, expectParts: 2,
            tolerance: tolerance, seed: 25, splitsRows: true)
        // Two parts on weights within 4 MiB (float32) but fewer than two rows a part: the split by rows would give
        // a part of one row, whose product runs the 1-row kernel (other sums), so the hidden units split.
        if T.self == Float.self {
            check(
                T.self, lstm, steps: 3, batch: 3, input: 5, hidden: 420, recurrentBias: true, expectParts: 2,
                tolerance: tolerance, seed: 28, splitsRows: false)
        }
        // Two parts on weights past 4 MiB: the hidden units split between threads meeting at the barrier.
        check(
            T.self, lstm, steps: 2, batch: 8, input: 8, hidden: 520, recurrentBias: true, expectParts: 2,
            tolerance: tolerance, seed: 26, splitsRows: false)
        check(
            T.self, gru, steps: 3, batch: 4, input: 5, hidden: 600, recurrentBias: true, expectParts: 2,
            tolerance: tolerance, seed: 27, splitsRows: false)
        // One part projecting per step with T · B ≤ 96: rows short against their count ([32, 16] · [64, 16]ᵀ
        // over all steps runs the blocked kernel, not the dot-product one).
        for (conv, seed) in [(lstm, UInt64(41)), (gru, 42)] {
            check(
                T.self, conv, steps: 8, batch: 4, input: 16, hidden: 16, recurrentBias: true, expectParts: 1,
                tolerance: tolerance, seed: seed, projectsPerStep: true)
        }
        // Runs longer than the step path's projection block (512 rows). The fused pass keeps the caches where
        // every block runs the blocked kernel (T=20 B=32: blocks of 512 and 128 rows), and where there is one
        // block (T=512 B=1); not where a short last block runs another kernel (T=257 B=2: 2 rows) or B=1
        // spans blocks (T=513), whose sums round otherwise: the step path keeps those.
        check(
            T.self, lstm, steps: 20, batch: 32, input: 9, hidden: 16, recurrentBias: true, expectParts: 1,
            tolerance: tolerance, seed: 51, projectsPerStep: true, keepsCaches: true)
        check(
            T.self, gru, steps: 257, batch: 2, input: 64, hidden: 16, recurrentBias: true, expectParts: 1,
            tolerance: tolerance, seed: 52, keepsCaches: false)
        check(
            T.self, lstm, steps: 513, batch: 1, input: 16, hidden: 8, recurrentBias: true, expectParts: 1,
            tolerance: tolerance, seed: 53, keepsCaches: false)
        check(
            T.self, lstm, steps: 512, batch: 1, input: 16, hidden: 8, recurrentBias: true, expectParts: 1,
            tolerance: tolerance, seed: 54, keepsCaches: true)
        // One part projecting per step: a few rows, inputs past one depth block (256), hidden off the vector width.
        for (conv, seed) in [(lstm, UInt64(31)), (gruCandidate, 32)] {
            check(
                T.self, conv, steps: 33, batch: 3, input: 300, hidden: 13, recurrentBias: true, expectParts: 1,
                tolerance: tolerance, seed: seed, projectsPerStep: true)
        }
    }

    @Test func testFloat() { run(Float.self, tolerance: 2e-5) }

    @Test func testDouble() { run(Double.self, tolerance: 1e-12) }

    /// Cells the fused pass does not compute take the step-by-step path.
    @Test func testOtherCellsAreNotFused() {
        var rng = TestRNG(5)
        let h = 4
        func params(_ g: Int, peephole: Bool = false) -> CellParameters<Double> {
            CellParameters(
                w: rng.tensor([g * h, 2]), r: rng.tensor([g * h, h]), peepholeI: peephole ? rng.tensor([h]) : nil)
        }
        XCTAssertNil(
            RecurrentCell(conventions: CellConventions(kind: .lstm), parameters: params(4, peephole: true))
                .fusedSequenceKind)
        XCTAssertNil(
            RecurrentCell(conventions: CellConventions(kind: .lstm, clip: 1), parameters: params(4)).fusedSequenceKind)
        XCTAssertNil(
            RecurrentCell(conventions: CellConventions(kind: .lstm, inputForget: true), parameters: params(4))
                .fusedSequenceKind)
        XCTAssertNil(
            RecurrentCell(
                conventions: CellConventions(kind: .gru, resetPlacement: .beforeMatmul), parameters: params(3)
            ).fusedSequenceKind)
        XCTAssertNil(RecurrentCell(conventions: CellConventions(kind: .rnn), parameters: params(1)).fusedSequenceKind)
    }
}
