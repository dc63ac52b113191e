import Foundation
import TestAssertions
import Testing

@testable import RNNKernels

/// The one backward driver (`sequenceBackward`): it refuses a run without caches, its block-wise
/// weight-gradient products add up to the per-step backward, and dropping the pre-activations from the
/// caches changes no gradient.
@Suite final class SequenceBackwardDriverTests {
    func cell(_ kind: CellKind, input: Int, hidden: Int, clip: Double? = nil, seed: UInt64) -> RecurrentCell<Double> {
        var rng = TestRNG(seed)
        let gh = kind.gateCount * hidden
        var conventions = CellConventions(kind: kind)
        conventions.clip = clip
        return RecurrentCell(
            conventions: conventions,
            parameters: CellParameters(
                w: rng.tensor([gh, input], scale: 0.5), r: rng.tensor([gh, hidden], scale: 0.5),
                bw: rng.tensor([gh], scale: 0.3), br: rng.tensor([gh], scale: 0.3)))
    }

    /// A forward pass without caches cannot be differentiated: the driver says so instead of returning
    /// the gradients of zero steps.
    @Test func testBackwardWithoutTheForwardCachesThrows() {
        for kind in CellKind.allCases {
            let c = cell(kind, input: 3, hidden: 4, seed: 1)
            var rng = TestRNG(2)
            let x = rng.tensor([5, 2, 3])
            let alone = runSequence(c, x: x, keepCaches: false)
            XCTAssertThrowsError(try runSequenceBackward(c, run: alone, dOutputs: rng.tensor([5, 2, 4]))) { error in
                XCTAssertEqual(error as? SequenceBackwardError, .cachesNotKept(kept: 0, steps: 5), "\(kind)")
                XCTAssertTrue("\(error)".contains("keepCaches: true"), "\(error)")
            }
            var g = CellSequenceGradients(zerosLike: c, head: nil, steps: 5, batch: 2)
            XCTAssertThrowsError(
                try sequenceBackward(
                    c, run: alone, SequenceBackwardSpec(head: .upstream(dy: rng.tensor([5, 2, 4]))), into: &g))
            // With the caches, the same call runs.
            let kept = runSequence(c, x: x)
            XCTAssertNoThrow(
                try sequenceBackward(
                    c, run: kept, SequenceBackwardSpec(head: .upstream(dy: rng.tensor([5, 2, 4]))), into: &g))
        }
    }

    /// More rows than one block of deferred products (`deferredGradientRows`), in both directions and with
    /// a mask: the weight gradients equal the sum of the per-step backward steps (`RecurrentCell.backward`,
    /// one product per step), and dx and dh0 agree.
    @Test func testBlockwiseWeightGradientsAreThePerStepSums() throws {
        let steps = 9, batch = 2 * deferredGradientRows / 8 + 3  // 131 rows a step: 3 blocks and a rest
        for kind in CellKind.allCases {
            for direction in [SequenceDirection.forward, .reverse] {
                let c = cell(kind, input: 3, hidden: 4, seed: 11)
                var rng = TestRNG(12)
                let x = rng.tensor([steps, batch, 3]), dOut = rng.tensor([steps, batch, 4])
                let mask = Tensor(shape: [steps, batch], scalars: (0..<(steps * batch)).map { $0 % 7 != 3 })
                let r = runSequence(c, x: x, mask: mask, direction: direction)
                let g = try runSequenceBackward(c, run: r, mask: mask, dOutputs: dOut)
                // The reference: per-step `backward` (weights added step by step), state routed by hand.
                var want = CellGradients(zerosLike: c)
                var dhState = [Double](repeating: 0, count: batch * 4),
                    dcState = [Double](repeating: 0, count: batch * 4)
                var dx = [Double](repeating: 0, count: steps * batch * 3)
                for k in stride(from: steps - 1, through: 0, by: -1) {
                    let t = r.steps[k]
                    var dh = dhState, dc = dcState
                    for b in 0..<batch {
                        for j in 0..<4 {
                            if mask.scalars[t * batch + b] {
                                dh[b * 4 + j] += dOut.scalars[(t * batch + b) * 4 + j]
                            } else {
                                dh[b * 4 + j] = 0; dc[b * 4 + j] = 0
                            }
                        }
                    }
                    let back = c.backward(
                        r.caches[k], dh: Tensor(shape: [batch, 4], scalars: dh),
                        dc: kind == .lstm ? Tensor(shape: [batch, 4], scalars: dc) : nil, into: &want)
                    dx.replaceSubrange((t * batch * 3)..<((t + 1) * batch * 3), with: back.x.scalars)
                    for b in 0..<batch where mask.scalars[t * batch + b] {
                        for j in 0..<4 {
                            dhState[b * 4 + j] = back.hPrev.scalars[b * 4 + j]
                            if let cp = back.cPrev { dcState[b * 4 + j] = cp.scalars[b * 4 + j] }
                        }
                    }
                }
                let label = "\(kind) \(direction)"
                assertClose(g.cell.w.scalars, want.w.scalars, abs: 1e-12, rel: 1e-12, "dW \(label)")
                assertClose(g.cell.r.scalars, want.r.scalars, abs: 1e-12, rel: 1e-12, "dR \(label)")
                assertClose(g.cell.bw.scalars, want.bw.scalars, abs: 1e-12, rel: 1e-12, "db_W \(label)")
                assertClose(g.cell.br.scalars, want.br.scalars, abs: 1e-12, rel: 1e-12, "db_R \(label)")
                assertClose(g.x.scalars, dx, abs: 1e-12, rel: 1e-12, "dx \(label)")
                assertClose(g.h0.scalars, dhState, abs: 1e-12, rel: 1e-12, "dh0 \(label)")
            }
        }
    }

    /// A run without a mask keeps each step's x, h_prev and h once, as rows of its input and outputs
    /// (`SequenceTape`), and makes the same caches, to the bit, as a run that stores them whole (an
    /// all-true mask): in both directions, outputs in processing order, from a given h0 and c0, with
    /// probes; and the gradients through either are the same.
    @Test func testRunsWithoutAMaskMakeTheCachesTheyDoNotStore() throws {
        func same(_ a: CellStepState<Double>, _ b: CellStepState<Double>) -> Bool {
            switch (a, b) {
            case (.rnn, .rnn): return true
            case (.gru(let x), .gru(let y)): return x == y
            case (.lstm(let p, let c, let u), .lstm(let q, let d, let v)): return p == q && c == d && u == v
            default: return false
            }
        }
        let steps = 7, batch = 3
        for kind in CellKind.allCases {
            for direction in [SequenceDirection.forward, .reverse] {
                for processingOrder in [false, true] {
                    for probed in [false, true] {
                        let c = cell(kind, input: 3, hidden: 4, seed: 31)
                        var rng = TestRNG(32)
                        let x = rng.tensor([steps, batch, 3]), h0 = rng.tensor([batch, 4])
                        let c0 = kind == .lstm ? rng.tensor([batch, 4]) : nil
                        let probeH = probed ? rng.tensor([steps, batch, 4], scale: 0.2) : nil
                        let allReal = Tensor(
                            shape: [steps, batch], scalars: [Bool](repeating: true, count: steps * batch))
                        func run(_ mask: Tensor<Bool>?) -> SequenceRun<Double> {
                            runSequence(
                                c, x: x, h0: h0, c0: c0, mask: mask, direction: direction,
                                outputsInProcessingOrder: processingOrder, probeH: probeH)
                        }
                        let onTape = run(nil), whole = run(allReal)
                        let label = "\(kind) \(direction) processing order \(processingOrder) probed \(probed)"
                        XCTAssertNotNil(onTape.tape, label)
                        XCTAssertNil(whole.tape, label)
                        XCTAssertEqual(onTape.cacheCount, steps, label)
                        XCTAssertEqual(onTape.outputs, whole.outputs, label)
                        for (k, (a, b)) in zip(onTape.caches, whole.caches).enumerated() {
                            XCTAssertEqual(a.x, b.x, "x, step \(k), \(label)")
                            XCTAssertEqual(a.hPrev, b.hPrev, "h_prev, step \(k), \(label)")
                            XCTAssertEqual(a.h, b.h, "h, step \(k), \(label)")
                            XCTAssertEqual(a.gates, b.gates, "gates, step \(k), \(label)")
                            XCTAssertEqual(a.preactivations, b.preactivations, "pre-activations, step \(k), \(label)")
                            XCTAssertTrue(same(a.state, b.state), "state, step \(k), \(label)")
                            // The accessors that copy no rows out read the same values.
                            XCTAssertTrue(same(onTape.stepState(k), b.state), "stepState, step \(k), \(label)")
                            XCTAssertEqual(onTape.stepPreactivations(k), b.preactivations, "step \(k), \(label)")
                        }
                        let dOut = rng.tensor([steps, batch, 4])
                        let
                            ga = try runSequenceBackward(
                                c, run: onTape, outputsInProcessingOrder: processingOrder, dOutputs: dOut),
                            gb = try runSequenceBackward(
                                c, run: whole, mask: allReal, outputsInProcessingOrder: processingOrder, dOutputs: dOut)
                        XCTAssertEqual(ga.cell.w, gb.cell.w, label)
                        XCTAssertEqual(ga.cell.r, gb.cell.r, label)
                        XCTAssertEqual(ga.x, gb.x, label)
                        XCTAssertEqual(ga.h0, gb.h0, label)
                        // Setting the caches stores them as given.
                        var set = onTape
                        set.caches = whole.caches
                        XCTAssertNil(set.tape, label)
                        XCTAssertEqual(set.stepCache(steps - 1).h, whole.stepCache(steps - 1).h, label)
                    }
                }
            }
        }
    }

    /// The caches keep the gate values alone where the slopes need nothing else (sigmoid and tanh, no
    /// clip), and the pre-activations too where they do (a clip); the gradients are those of caches that
    /// keep both, to the bit.
    @Test func testCachesKeepEachValueOnceWithTheSameGradients() throws {
        for kind in CellKind.allCases {
            for clip in [nil, 0.4] {
                let c = cell(kind, input: 3, hidden: 4, clip: clip, seed: 21)
                XCTAssertEqual(c.backwardReadsPreactivations, clip != nil, "\(kind) clip \(String(describing: clip))")
                var rng = TestRNG(22)
                let x = rng.tensor([6, 2, 3]), dOut = rng.tensor([6, 2, 4])
                let lean = runSequence(c, x: x), full = runSequence(c, x: x, keepPreactivations: true)
                XCTAssertEqual(lean.caches.allSatisfy { $0.preactivations == nil }, clip == nil, "\(kind)")
                XCTAssertTrue(full.caches.allSatisfy { $0.preactivations != nil })
                XCTAssertEqual(lean.outputs, full.outputs)
                let a = try runSequenceBackward(c, run: lean, dOutputs: dOut),
                    b = try runSequenceBackward(c, run: full, dOutputs: dOut)
                XCTAssertEqual(a.cell.w, b.cell.w, "\(kind)")
                XCTAssertEqual(a.cell.r, b.cell.r, "\(kind)")
                XCTAssertEqual(a.x, b.x, "\(kind)")
                XCTAssertEqual(a.h0, b.h0, "\(kind)")
            }
        }
        var relu = CellConventions(kind: .rnn)
        relu.candidateActivation = CellActivation(.relu)
        XCTAssertTrue(
            RecurrentCell(conventions: relu, parameters: cell(.rnn, input: 2, hidden: 2, seed: 3).parameters)
                .backwardReadsPreactivations)
    }

    /// A run that keeps its caches computes the input part a block of steps at a time: the outputs are
    /// those of the forward pass alone, which computes it at once.
    @Test func testBlockwiseInputProjectionGivesTheSameRun() {
        let steps = 5, batch = cachedProjectionRows / 2 + 1  // two steps a block
        for kind in CellKind.allCases {
            for direction in [SequenceDirection.forward, .reverse] {
                let c = cell(kind, input: 3, hidden: 4, seed: 31)
                var rng = TestRNG(32)
                let x = rng.tensor([steps, batch, 3])
                let kept = runSequence(c, x: x, direction: direction),
                    alone = runSequence(c, x: x, direction: direction, keepCaches: false)
                assertClose(kept.outputs.scalars, alone.outputs.scalars, abs: 1e-13, rel: 1e-13, "\(kind) \(direction)")
            }
        }
    }
}
