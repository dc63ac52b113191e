import Dispatch
import Foundation
import Synchronization
import TestAssertions
import Testing

@testable import RNNKernels

/// A cell keeps its packed weights between calls (`PackedWeightsStore`) only while they are the same arrays:
/// every result equals a fresh cell's, bit for bit, whatever was written to the weights in between.
@Suite final class PackedWeightsTests {
    /// An LSTM large enough for the fused passes (B=16, H=128: two threads, W and R packed by hidden unit; 9 steps: the fused backward pass, on R packed for dR · R).
    static func make(seed: UInt64) -> (RecurrentCell<Float>, Tensor<Float>, Tensor<Float>) {
        var rng = TestRNG(seed)
        func rand(_ s: [Int], _ scale: Double = 0.5) -> Tensor<Float> { rng.tensor(s, scale: scale).converted() }
        // I = H: W and R of the same shape, kept apart.
        let h = 128, i = 128
        let cell = RecurrentCell(
            conventions: CellConventions(kind: .lstm),
            parameters: CellParameters(
                w: rand([4 * h, i]), r: rand([4 * h, h], 1 / Double(h).squareRoot()), bw: rand([4 * h]),
                br: rand([4 * h])))
        return (cell, rand([9, 16, i]), rand([9, 16, h], 1))
    }

    /// The forward pass alone, the forward pass keeping caches, and the gradients of BPTT.
    static func results(_ cell: RecurrentCell<Float>, _ x: Tensor<Float>, _ dy: Tensor<Float>) -> [Float] {
        let alone = runSequence(cell, x: x, keepCaches: false)
        let head = SequenceLossHead<Float>.upstream(dy: dy)
        let cache = cellSequenceForward(cell, x: x, head: head)
        var g = CellSequenceGradients(zerosLike: cell, head: head, steps: x.shape[0], batch: x.shape[1])
        cellSequenceBackward(cell, cache: cache, head: head, into: &g)
        return alone.outputs.scalars + alone.hLast.scalars + [cache.loss] + g.cell.w.scalars + g.cell.r.scalars
    }

    /// A fresh cell with the same weights (nothing kept).
    static func fresh(_ cell: RecurrentCell<Float>) -> RecurrentCell<Float> {
        RecurrentCell(conventions: cell.conventions, parameters: cell.parameters)
    }

    @Test func testKeptWhileTheWeightsAreTheSameArrays() throws {
        try XCTSkipUnless(packedGemmAvailable, "no packed kernels on this CPU: nothing is packed")
        let (cell, x, dy) = Self.make(seed: 7)
        let first = Self.results(cell, x, dy)
        XCTAssertGreaterThanOrEqual(cell.packedWeights.count, 2, "the passes kept W and R packed")
        let panels = cell.packedRecurrent().panels
        // The packings the forward pass took (split by rows: one range of every hidden unit).
        func forwardPanels() -> [PanelBuffer<Float>?] {
            let ranges = [0..<cell.hiddenSize]
            return
                (cell.splitRecurrent(parts: 1).weights
                + cell.packedByHiddenUnit(cell.parameters.w.scalars, ranges: ranges, name: "W")).map(\.panels)
        }
        let forward = forwardPanels()
        let kept = cell.packedWeights.count
        assertSameBits(Self.results(cell, x, dy), first, "the second run, on the kept packings")
        XCTAssertEqual(cell.packedWeights.count, kept, "no new packing for the same weights")
        XCTAssertTrue(cell.packedRecurrent().panels === panels, "the same packed R")
        XCTAssertTrue(zip(forwardPanels(), forward).allSatisfy { $0 === $1 }, "the same packed W and R")
        assertSameBits(Self.results(Self.fresh(cell), x, dy), first, "a fresh cell")
    }

    /// Weights written in place, replaced, or written through a pointer: each pass packs the new weights.
    @Test func testWrittenWeightsArePackedAgain() throws {
        try XCTSkipUnless(packedGemmAvailable, "no packed kernels on this CPU: nothing is packed")
        var (cell, x, dy) = Self.make(seed: 8)
        let before = Self.results(cell, x, dy)
        let panels = cell.packedRecurrent().panels
        cell.parameters.r.scalars[5] += 0.25
        let afterR = Self.results(cell, x, dy)
        assertSameBits(afterR, Self.results(Self.fresh(cell), x, dy), "R written in place")
        XCTAssertTrue(afterR != before, "the change to R shows (the comparison is not vacuous)")
        XCTAssertFalse(cell.packedRecurrent().panels === panels, "R packed again")
        cell.parameters.w.scalars.withUnsafeMutableBufferPointer { $0[3] -= 0.5 }
        let afterW = Self.results(cell, x, dy)
        assertSameBits(afterW, Self.results(Self.fresh(cell), x, dy), "W written through a pointer")
        XCTAssertTrue(afterW != afterR, "the change to W shows")
        cell.parameters.r = Tensor(shape: cell.parameters.r.shape, scalars: cell.parameters.r.scalars.map { $0 * 0.5 })
        assertSameBits(Self.results(cell, x, dy), Self.results(Self.fresh(cell), x, dy), "R replaced")
    }

    /// Copies share the store: a copy given other weights neither sees the original's packings nor
    /// leaves its own to the original; threads running both at once get each one's results.
    @Test func testCopiesAndThreads() throws {
        try XCTSkipUnless(packedGemmAvailable, "no packed kernels on this CPU: nothing is packed")
        let (cell, x, dy) = Self.make(seed: 9)
        let original = Self.results(cell, x, dy)
        var copy = cell
        copy.parameters.r.scalars[0] -= 0.125
        let copied = Self.results(Self.fresh(copy), x, dy)
        assertSameBits(Self.results(copy, x, dy), copied, "the copy with its own R")
        assertSameBits(Self.results(cell, x, dy), original, "the original after the copy ran")
        let outcomes = Mutex<[Int: [Float]]>([:])
        let other = copy
        DispatchQueue.concurrentPerform(iterations: 8) { k in
            let r = Self.results(k % 2 == 0 ? cell : other, x, dy)
            outcomes.withLock { $0[k] = r }
        }
        for (k, r) in outcomes.withLock({ $0 }) {
            assertSameBits(r, k % 2 == 0 ? original : copied, "thread \(k)")
        }
    }
}
