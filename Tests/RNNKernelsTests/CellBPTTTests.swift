import Foundation
import TestAssertions
import Testing

@testable import RNNKernels

/// BPTT of LSTM and GRU sequences (`cellSequenceForward` / `cellSequenceBackward`) against central
/// finite differences computed in Double; written once generic, run for Float and Double (Float
/// compared with the Double reference at a float tolerance).
@Suite final class CellBPTTTests {
    let steps = 7, batch = 2, input = 3, hidden = 3, classes = 4

    func values(_ n: Int, _ seed: Double, scale: Double = 0.6) -> [Double] {
        (0..<n).map { scale * sin(Double($0) * 1.3 + seed) }
    }
    var targets: [Int] { (0..<(steps * batch)).map { ($0 * 7 + 3) % classes } }

    func cell<T: KernelScalar>(_ kind: CellKind, _: T.Type, w: [Double]? = nil, r: [Double]? = nil) -> RecurrentCell<T>
    {
        let gh = kind.gateCount * hidden
        let conventions =
            kind == .gru
            ? CellConventions(kind: .gru, resetPlacement: .afterMatmul, updateSide: .previous)
            : CellConventions(kind: kind)
        return RecurrentCell(
            conventions: conventions,
            parameters: CellParameters(
                w: tensor([gh, input], w ?? values(gh * input, 1)),
                r: tensor([gh, hidden], r ?? values(gh * hidden, 2)),
                bw: tensor([gh], values(gh, 3, scale: 0.2)), br: tensor([gh], values(gh, 4, scale: 0.2))))
    }

    func head<T: KernelScalar>(_: T.Type, upstream: Bool) -> SequenceLossHead<T> {
        upstream
            ? .upstream(dy: tensor([steps, batch, hidden], values(steps * batch * hidden, 5)))
            : .crossEntropy(
                why: tensor([classes, hidden], values(classes * hidden, 6)),
                by: tensor([classes], values(classes, 7, scale: 0.1)),
                targets: targets)
    }

    func x<T: KernelScalar>(_: T.Type) -> Tensor<T> {
        tensor([steps, batch, input], values(steps * batch * input, 8, scale: 1))
    }
    func h0<T: KernelScalar>(_: T.Type) -> Tensor<T> { tensor([batch, hidden], values(batch * hidden, 9, scale: 0.5)) }
    func c0<T: KernelScalar>(_ kind: CellKind, _: T.Type) -> Tensor<T>? {
        kind == .lstm ? tensor([batch, hidden], values(batch * hidden, 10, scale: 0.5)) : nil
    }

    func gradients<T: KernelScalar>(_ kind: CellKind, _: T.Type, upstream: Bool, window: Int? = nil)
        -> CellSequenceGradients<T>
    {
        let cell = cell(kind, T.self), head = head(T.self, upstream: upstream)
        let cache = cellSequenceForward(cell, x: x(T.self), h0: h0(T.self), c0: c0(kind, T.self), head: head)
        var g = CellSequenceGradients(zerosLike: cell, head: head, steps: steps, batch: batch)
        cellSequenceBackward(cell, cache: cache, head: head, window: window, into: &g)
        return g
    }

    /// The Double loss with W (which: 0) or R (which: 1) replaced.
    func loss(_ kind: CellKind, upstream: Bool, which: Int, _ m: [Double]) -> Double {
        let cell = which == 0 ? cell(kind, Double.self, w: m) : cell(kind, Double.self, r: m)
        return cellSequenceForward(
            cell, x: x(Double.self), h0: h0(Double.self), c0: c0(kind, Double.self),
            head: head(Double.self, upstream: upstream)
        ).loss
    }

    func finiteDifferences(_ kind: CellKind, upstream: Bool, which: Int) -> [Double] {
        let gh = kind.gateCount * hidden
        let base = which == 0 ? values(gh * input, 1) : values(gh * hidden, 2), eps = 1e-6
        return (0..<base.count).map { i in
            var plus = base, minus = base
            plus[i] += eps
            minus[i] -= eps
            return
                (loss(kind, upstream: upstream, which: which, plus)
                - loss(kind, upstream: upstream, which: which, minus)) / (2 * eps)
        }
    }

    func gradientsAgreeWithFiniteDifferences<T: KernelScalar>(_ kind: CellKind, _: T.Type) {
        for upstream in [false, true] {
            let g = gradients(kind, T.self, upstream: upstream)
            let a = T.self == Float.self ? 1e-4 : 1e-7, r = T.self == Float.self ? 1e-3 : 1e-6
            assertClose(
                g.cell.w.scalars, finiteDifferences(kind, upstream: upstream, which: 0), abs: a, rel: r,
                "\(kind) dW \(T.self)")
            assertClose(
                g.cell.r.scalars, finiteDifferences(kind, upstream: upstream, which: 1), abs: a, rel: r,
                "\(kind) dR \(T.self)")
        }
    }

    @Test func testLSTMGradientsAgreeWithFiniteDifferences() {
        gradientsAgreeWithFiniteDifferences(.lstm, Float.self)
        gradientsAgreeWithFiniteDifferences(.lstm, Double.self)
    }

    @Test func testGRUGradientsAgreeWithFiniteDifferences() {
        gradientsAgreeWithFiniteDifferences(.gru, Float.self)
        gradientsAgreeWithFiniteDifferences(.gru, Double.self)
    }

    @Test func testOneFullWindowIsFullBPTT() {
        for kind in [CellKind.lstm, .gru] {
            let full = gradients(kind, Double.self, upstream: false)
            let whole = gradients(kind, Double.self, upstream: false, window: steps)
            XCTAssertEqual(full.cell.w.scalars, whole.cell.w.scalars)
            XCTAssertEqual(full.cell.r.scalars, whole.cell.r.scalars)
            XCTAssertEqual(full.h0.scalars, whole.h0.scalars)
            XCTAssertEqual(full.c0?.scalars, whole.c0?.scalars)
            // A shorter window does cut the recurrence.
            XCTAssertNotEqual(
                gradients(kind, Double.self, upstream: false, window: 2).cell.r.scalars, full.cell.r.scalars)
        }
    }

    /// Clipping scales the accumulated gradients once: every clipped gradient is the full one times
    /// maxNorm / ‖g‖, with ‖g‖ the norm of the sum over all steps.
    @Test func testClippingIsAppliedAfterAccumulation() {
        let cell = cell(.lstm, Double.self)
        var g = gradients(.lstm, Double.self, upstream: false)
        let full = g
        let norm = globalNorm(full.weightGradients(of: cell))
        let returned = g.clipWeights(maxNorm: norm / 4, of: cell)
        XCTAssertEqual(returned, norm)
        assertClose(g.cell.w.scalars, full.cell.w.scalars.map { $0 / 4 }, abs: 1e-14, rel: 1e-12)
        assertClose(g.why!.scalars, full.why!.scalars.map { $0 / 4 }, abs: 1e-14, rel: 1e-12)
        XCTAssertEqual(globalNorm(g.weightGradients(of: cell)), norm / 4, accuracy: 1e-12)
        XCTAssertEqual(g.h0.scalars, full.h0.scalars, "the initial-state gradients are not clipped")
        // Above the threshold nothing changes.
        var h = full
        XCTAssertEqual(h.clipWeights(maxNorm: norm * 2, of: cell), norm)
        XCTAssertEqual(h.cell.w.scalars, full.cell.w.scalars)
    }

    /// dL/dc_t is the full gradient: c_{−1} = c0 reaches the loss only through c_0 = f_0⊙c0 + …,
    /// so dL/dc0 = f_0 ⊙ dL/dc_0; and dL/dc0 itself is checked against finite differences elsewhere.
    @Test func testCellGradientIsTheTotalGradient() {
        let cell = cell(.lstm, Double.self)
        let head = head(Double.self, upstream: false)
        let cache = cellSequenceForward(
            cell, x: x(Double.self), h0: h0(Double.self), c0: c0(.lstm, Double.self), head: head)
        var g = CellSequenceGradients(
            zerosLike: cell, head: head, steps: steps, batch: batch, recordStateGradients: true)
        cellSequenceBackward(cell, cache: cache, head: head, into: &g)
        let f0 = cache.steps[0].gate(.f, of: cell.conventions).scalars
        let dc0 = (0..<(batch * hidden)).map { f0[$0] * g.dc!.scalars[$0] }
        assertClose(g.c0!.scalars, dc0)
        // At the last step the gradient arrives through h only, so it is not zero.
        XCTAssertTrue(g.dc!.scalars.suffix(batch * hidden).contains { $0 != 0 })
    }
}
