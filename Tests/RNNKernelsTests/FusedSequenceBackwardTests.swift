import Foundation
import TestAssertions
import Testing

@testable import RNNKernels

/// The fused backward pass (`rnn_sequence_backward_*`, taken by `sequenceBackward` for a run the fused forward
/// pass kept) computes bit for bit what the step-by-step driver does: every weight gradient and dh0 (dc0),
/// over blocks of steps, both directions, one thread and two, and ranges of one row.
/// Bit for bit (the bit patterns, so that −0 differs from +0), reported as a count and the first difference.
func assertSameBits<T: KernelScalar>(_ a: [T], _ b: [T], _ label: String) {
    guard a.count == b.count else { return XCTFail("\(label): \(a.count) elements against \(b.count)") }
    let differing = a.indices.filter { Double(a[$0]).bitPattern != Double(b[$0]).bitPattern }
    if let first = differing.first {
        XCTFail("\(label): \(differing.count) of \(a.count) differ, first [\(first)] \(a[first]) against \(b[first])")
    }
}

/// `assertSameBits` on two tensors' shapes and scalars (nil only with nil).
func assertSameBits<T: KernelScalar>(_ a: Tensor<T>?, _ b: Tensor<T>?, _ label: String) {
    guard let a, let b else { return XCTAssertTrue(a == nil && b == nil, "\(label): one of the two is nil") }
    XCTAssertEqual(a.shape, b.shape, label)
    assertSameBits(a.scalars, b.scalars, label)
}

@Suite final class FusedSequenceBackwardTests {
    struct Shape {
        var steps: Int, batch: Int, input: Int, hidden: Int
    }

    func check<T: KernelScalar>(
        _: T.Type, _ conv: CellConventions, _ shape: Shape, seed: UInt64, parts: Int, lossFrom: Int = 0,
        head: Bool = true, lastState: Bool = false, flipSpecOrder: Bool = false
    ) {
        var rng = TestRNG(seed)
        func rand(_ s: [Int], _ scale: Double = 0.5) -> Tensor<T> { rng.tensor(s, scale: scale).converted() }
        let g = conv.kind.gateCount, h = shape.hidden, b = shape.batch, isLSTM = conv.kind == .lstm
        let cell = RecurrentCell(
            conventions: conv,
            parameters: CellParameters(
                w: rand([g * h, shape.input]), r: rand([g * h, h], 1 / Double(h).squareRoot()), bw: rand([g * h]),
                br: rand([g * h])))
        let x = rand([shape.steps, b, shape.input]), h0 = rand([b, h]), c0 = isLSTM ? rand([b, h]) : nil
        let dy = rand([shape.steps, b, h], 1)
        let label = "\(T.self) \(conv.kind) \(conv.gateOrder) T\(shape.steps) B\(b) I\(shape.input) H\(h)"
        if elementwiseThreads >= parts { XCTAssertEqual(cell.backwardRowBounds(batch: b).count - 1, parts, label) }
        for (direction, processing) in SequenceDirection.allCases.flatMap({ d in [(d, false), (d, true)] }) {
            // The fused forward pass's tape, and the step path's (kept pre-activations keep it off the fused pass).
            let fusedRun = runSequence(
                cell, x: x, h0: h0, c0: c0, direction: direction, outputsInProcessingOrder: processing)
            let stepRun = runSequence(
                cell, x: x, h0: h0, c0: c0, direction: direction, outputsInProcessingOrder: processing,
                keepPreactivations: true)
            guard packedGemmAvailable else { XCTAssertNil(fusedRun.tape?.fused, label); return }
            XCTAssertNotNil(fusedRun.tape?.fused, label)
            XCTAssertNil(stepRun.tape?.fused, label)
            var spec = SequenceBackwardSpec<T>(head: head ? .upstream(dy: dy) : nil, lossFrom: lossFrom)
            // The head's dy laid out in the other order than the run's outputs (flipSpecOrder): dy follows the
            // spec's order, h_prev the run's.
            spec.outputsInProcessingOrder = flipSpecOrder ? !processing : processing
            if lastState {
                spec.dhLast = rand([b, h], 1)
                spec.dcLast = isLSTM ? rand([b, h], 1) : nil
            }
            var fused = CellSequenceGradients(zerosLike: cell, head: spec.head, steps: shape.steps, batch: b)
            var step = fused
            XCTAssertTrue(cell.fusedSequenceBackward(run: fusedRun, spec, into: &fused), "\(label): fused")
            XCTAssertFalse(cell.fusedSequenceBackward(run: stepRun, spec, into: &step), "\(label): step path")
            do { try sequenceBackward(cell, run: stepRun, spec, into: &step) } catch { XCTFail("\(label): \(error)") }
            let where_ = "\(label) \(direction) processing order \(processing)"
            assertSameBits(fused.cell.w.scalars, step.cell.w.scalars, "\(where_): dW")
            assertSameBits(fused.cell.r.scalars, step.cell.r.scalars, "\(where_): dR")
            assertSameBits(fused.cell.bw.scalars, step.cell.bw.scalars, "\(where_): db_W")
            assertSameBits(fused.cell.br.scalars, step.cell.br.scalars, "\(where_): db_R")
            assertSameBits(fused.h0.scalars, step.h0.scalars, "\(where_): dh0")
            assertSameBits(fused.c0?.scalars ?? [], step.c0?.scalars ?? [], "\(where_): dc0")
            XCTAssertTrue(fused.cell.w.scalars.contains { $0 != 0 }, where_)
            // And through the public driver, which takes the fused pass for this run.
            var viaDriver = CellSequenceGradients(zerosLike: cell, head: spec.head, steps: shape.steps, batch: b)
            do { try sequenceBackward(cell, run: fusedRun, spec, into: &viaDriver) } catch {
                XCTFail("\(label): \(error)")
            }
            assertSameBits(viaDriver.cell.r.scalars, step.cell.r.scalars, "\(where_): dR by sequenceBackward")
        }
    }

    func run<T: KernelScalar>(_: T.Type) {
        let lstm = CellConventions(kind: .lstm), lstmONNX = CellConventions(kind: .lstm, gateOrder: [.i, .o, .f, .g])
        let gru = CellConventions(kind: .gru),
            gruCandidate = CellConventions(kind: .gru, gateOrder: [.z, .r, .n], updateSide: .candidate)
        // Two threads of 16 rows; T=12: blocks of 8 and 4 steps (256 rows of gate gradients per block).
        check(T.self, lstm, Shape(steps: 12, batch: 32, input: 9, hidden: 128), seed: 1, parts: 2)
        check(T.self, gru, Shape(steps: 12, batch: 32, input: 5, hidden: 150), seed: 2, parts: 2)
        check(
            T.self, lstmONNX, Shape(steps: 9, batch: 32, input: 7, hidden: 128), seed: 3, parts: 2, lossFrom: 3,
            lastState: true, flipSpecOrder: true)
        check(
            T.self, gruCandidate, Shape(steps: 8, batch: 32, input: 4, hidden: 150), seed: 4, parts: 2, head: false,
            lastState: true)
        // Five rows in two threads (2 and 3); three rows in one, which would leave a range of one row (the
        // 1-row kernel, other sums than on one thread).
        check(T.self, lstmONNX, Shape(steps: 8, batch: 5, input: 6, hidden: 420), seed: 5, parts: 2)
        check(T.self, lstm, Shape(steps: 8, batch: 3, input: 6, hidden: 700), seed: 8, parts: 1)
        // One thread (a step's elementwise work under 16,384), the product still by rows on packed panels.
        check(T.self, gru, Shape(steps: 10, batch: 8, input: 3, hidden: 300), seed: 6, parts: 1)
    }

    @Test func testFloat() { run(Float.self) }

    @Test func testDouble() { run(Double.self) }

    /// Several row ranges have two rows or more each, so that the products' sums are those of one range: the
    /// same bits on any number of cores.
    @Test func testRowRangesNeverHaveOneRowOfSeveral() {
        for n in 1...64 {
            for work in [0, 16_383, 16_384, 1 << 24] {
                let parts = rowRangeCount(n, work: work)
                XCTAssertTrue(parts >= 1 && parts <= Swift.max(1, elementwiseThreads), "n \(n) work \(work)")
                // The ranges run on several threads at once: collected under a lock.
                let lock = NSLock()
                nonisolated(unsafe) var seen = [Range<Int>]()
                forEachRowRange(n, work: work) { rows in lock.withLock { seen.append(rows) } }
                XCTAssertEqual(seen.map(\.count).reduce(0, +), n, "n \(n): every row once")
                if parts > 1 { XCTAssertTrue(seen.allSatisfy { $0.count >= 2 }, "n \(n) work \(work): \(seen)") }
            }
        }
        if elementwiseThreads >= 2 {
            XCTAssertEqual(rowRangeCount(3, work: 1 << 20), 1)
            XCTAssertEqual(rowRangeCount(4, work: 1 << 20), 2)
        }
    }

    /// Where the step path would run otherwise, or the spec asks for more, the fused pass declines.
    @Test func testDeclines() {
        var rng = TestRNG(7)
        let h = 128, b = 32
        let cell = RecurrentCell(
            conventions: CellConventions(kind: .lstm),
            parameters: CellParameters<Double>(
                w: rng.tensor([4 * h, 3]), r: rng.tensor([4 * h, h], scale: 0.1), bw: rng.tensor([4 * h]),
                br: rng.tensor([4 * h])))
        func declines(steps: Int, _ edit: (inout SequenceBackwardSpec<Double>) -> Void) -> Bool {
            let run = runSequence(cell, x: rng.tensor([steps, b, 3]))
            var spec = SequenceBackwardSpec<Double>(head: .upstream(dy: rng.tensor([steps, b, h])))
            edit(&spec)
            var grads = CellSequenceGradients(
                zerosLike: cell, head: spec.head, steps: steps, batch: b, inputGradient: spec.inputGradient)
            let before = grads.cell.r.scalars
            let taken = cell.fusedSequenceBackward(run: run, spec, into: &grads)
            XCTAssertTrue(taken || grads.cell.r.scalars == before, "declined without writing")
            return !taken
        }
        guard packedGemmAvailable else { return }
        XCTAssertFalse(declines(steps: 8) { _ in })
        XCTAssertTrue(declines(steps: 7) { _ in }, "fewer than 8 steps: R is not packed by the step path")
        XCTAssertTrue(declines(steps: 8) { $0.inputGradient = true })
        XCTAssertTrue(declines(steps: 8) { $0.recordStateGradients = true })
        XCTAssertTrue(declines(steps: 8) { $0.window = 4 })
        XCTAssertTrue(
            declines(steps: 8) { $0.mask = Tensor(shape: [8, b], scalars: [Bool](repeating: true, count: 8 * b)) })
        XCTAssertTrue(declines(steps: 8) { $0.dCellStates = Tensor(zeros: [8, b, h]) })
        XCTAssertTrue(
            declines(steps: 8) {
                $0.head = .crossEntropy(
                    why: Tensor(zeros: [5, h]), by: nil, targets: [Int](repeating: 0, count: 8 * b))
            })
        // A step too small for the step path's threaded row product (B·G·H² < 2^21), which then runs dR · R
        // by `gemm` over the whole batch: the fused pass declines.
        let small = RecurrentCell(
            conventions: CellConventions(kind: .lstm),
            parameters: CellParameters<Double>(w: rng.tensor([64, 3]), r: rng.tensor([64, 16]), bw: rng.tensor([64])))
        let run = runSequence(small, x: rng.tensor([8, 2, 3]))
        var grads = CellSequenceGradients(zerosLike: small, head: nil, steps: 8, batch: 2)
        XCTAssertNotNil(run.tape?.fused)
        XCTAssertFalse(small.fusedSequenceBackward(run: run, SequenceBackwardSpec(), into: &grads))
    }
}
