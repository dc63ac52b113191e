import Foundation
import RNNKernelsSIMD
import TestAssertions
import Testing

@testable import RNNKernels

/// Out of threads: when a part's thread cannot be created, the fused passes neither abort nor change a bit.
/// Parts that never meet (the forward pass split by batch rows, the backward pass) run on the calling thread
/// instead; parts that meet every step (the forward pass split by hidden units) do not run at all, and the
/// step-by-step path computes the run. `rnn_simd_fail_thread_creation_for_testing` makes the calling thread's
/// thread creations fail, as `pthread_create` does when the process is out of threads or memory.
@Suite final class FusedThreadFailureTests {
    /// The same seeded LSTM weights and inputs in T (PyTorch conventions).
    func lstm<T: KernelScalar>(
        _: T.Type, steps: Int, batch: Int, input: Int, hidden: Int, seed: UInt64
    ) -> (cell: RecurrentCell<T>, x: Tensor<T>, h0: Tensor<T>, c0: Tensor<T>, dy: Tensor<T>) {
        var rng = TestRNG(seed)
        func rand(_ s: [Int], _ scale: Double = 0.5) -> Tensor<T> { rng.tensor(s, scale: scale).converted() }
        let h = hidden
        let cell = RecurrentCell(
            conventions: CellConventions(kind: .lstm),
            parameters: CellParameters(
                w: rand([4 * h, input]), r: rand([4 * h, h], 1 / Double(h).squareRoot()), bw: rand([4 * h]),
                br: rand([4 * h])))
        return (
            cell, rand([steps, batch, input]), rand([batch, h]), rand([batch, h]), rand([steps, batch, h], 1)
        )
    }

    /// Runs `body` with every thread creation on this thread failing after `after` of them, and checks that
    /// some creation did fail (else the pass ran elsewhere, or created no thread, and the test would prove
    /// nothing).
    func withThreadCreationsFailing<R>(after: Int32, _ label: String, _ body: () throws -> R) rethrows -> R {
        _ = rnn_simd_fail_thread_creation_for_testing(after)
        let result = try body()
        XCTAssertGreaterThan(
            rnn_simd_fail_thread_creation_for_testing(-1), 0, "\(label): no thread creation was made to fail")
        return result
    }

    func assertSameRun<T: KernelScalar>(_ a: SequenceRun<T>, _ b: SequenceRun<T>, _ label: String) {
        assertSameBits(a.outputs, b.outputs, "\(label): outputs")
        assertSameBits(a.hLast, b.hLast, "\(label): h_last")
        assertSameBits(a.cLast, b.cLast, "\(label): c_last")
    }

    /// Split by batch rows: the part without a thread runs on the calling thread, the same bits, and the run
    /// keeps its caches for the fused backward pass, which also loses its threads and gives the same gradients.
    func checkRows<T: KernelScalar>(_: T.Type) {
        let (cell, x, h0, c0, dy) = lstm(T.self, steps: 12, batch: 32, input: 9, hidden: 128, seed: 71)
        let label = "\(T.self) LSTM T12 B32 H128"
        let parts = cell.sequenceParts(batch: 32) ?? 1
        XCTAssertTrue(cell.fusedSplitsRows(batch: 32, parts: parts, projectsPerStep: true), label)
        let normal = runSequence(cell, x: x, h0: h0, c0: c0)
        let starved = withThreadCreationsFailing(after: 0, label) { runSequence(cell, x: x, h0: h0, c0: c0) }
        XCTAssertNotNil(normal.tape?.fused, label)
        XCTAssertNotNil(starved.tape?.fused, "\(label): the fused pass ran without its threads")
        assertSameRun(starved, normal, label)
        let spec = SequenceBackwardSpec<T>(head: .upstream(dy: dy))
        var withThreads = CellSequenceGradients(zerosLike: cell, head: spec.head, steps: 12, batch: 32)
        var without = withThreads
        XCTAssertTrue(cell.fusedSequenceBackward(run: normal, spec, into: &withThreads), label)
        XCTAssertTrue(
            withThreadCreationsFailing(after: 0, label) {
                cell.fusedSequenceBackward(run: normal, spec, into: &without)
            },
            "\(label): the fused backward pass ran without its threads")
        assertSameBits(without.cell.w.scalars, withThreads.cell.w.scalars, "\(label): dW")
        assertSameBits(without.cell.r.scalars, withThreads.cell.r.scalars, "\(label): dR")
        assertSameBits(without.cell.bw.scalars, withThreads.cell.bw.scalars, "\(label): db_W")
        assertSameBits(without.h0.scalars, withThreads.h0.scalars, "\(label): dh0")
        assertSameBits(without.c0?.scalars ?? [], withThreads.c0?.scalars ?? [], "\(label): dc0")
    }

    /// Split by hidden units (weights past 4 MiB): the parts meet every step, so none runs without all of its
    /// threads; `fusedSequenceRun` declines and `runSequence` gives the step path's bits, which are the fused
    /// pass's.
    func checkUnits<T: KernelScalar>(_: T.Type) {
        let (cell, x, h0, c0, _) = lstm(T.self, steps: 3, batch: 8, input: 8, hidden: 520, seed: 72)
        let label = "\(T.self) LSTM T3 B8 H520"
        let parts = cell.sequenceParts(batch: 8) ?? 1
        XCTAssertEqual(parts, 2, label)
        XCTAssertFalse(cell.fusedSplitsRows(batch: 8, parts: parts, projectsPerStep: true), label)
        let order = Array(0..<3)
        let fused = cell.fusedSequenceRun(
            x: x, h0: h0, c0: c0, direction: .forward, outputsInProcessingOrder: false, order: order)
        XCTAssertNotNil(fused, label)
        let declined = withThreadCreationsFailing(after: 0, label) {
            cell.fusedSequenceRun(
                x: x, h0: h0, c0: c0, direction: .forward, outputsInProcessingOrder: false, order: order)
        }
        XCTAssertNil(declined, "\(label): the parts meet every step, so none runs without its threads")
        let starved = withThreadCreationsFailing(after: 0, label) {
            runSequence(cell, x: x, h0: h0, c0: c0, keepCaches: false)
        }
        if let fused { assertSameRun(starved, fused, "\(label): the step path") }
    }

    @Test func testPartsWithoutThreads() throws {
        try XCTSkipUnless(packedGemmAvailable, "no fused passes on this CPU")
        try XCTSkipUnless(elementwiseThreads >= 2, "one core: the fused passes create no thread")
        checkRows(Float.self)
        checkRows(Double.self)
        checkUnits(Float.self)
        checkUnits(Double.self)
    }
}
