import Foundation
import TestAssertions
import Testing

@testable import RNNKernels

/// BPTT of the Elman language model (the Elman layout of `RecurrentCell` with a cross-entropy head)
/// against central finite differences computed in Double; the Float gradients are compared with that
/// Double reference at a float tolerance.
@Suite final class ElmanBPTTTests {
    let steps = 6, batch = 2, hidden = 3, input = 2, classes = 3
    let targets = [0, 2, 1, 1, 2, 0, 0, 1, 2, 2, 1, 0]

    func values(_ n: Int, _ seed: Double) -> [Double] { (0..<n).map { 0.6 * sin(Double($0) * 1.7 + seed) } }

    func cell<T: KernelScalar>(_: T.Type, whh: [Double]? = nil) -> RecurrentCell<T> {
        .elman(
            wxh: tensor([hidden, input], values(hidden * input, 1)),
            whh: tensor([hidden, hidden], whh ?? values(hidden * hidden, 2)),
            bh: tensor([hidden], values(hidden, 3)))
    }

    func head<T: KernelScalar>(_: T.Type) -> SequenceLossHead<T> {
        .crossEntropy(
            why: tensor([classes, hidden], values(classes * hidden, 4)), by: tensor([classes], values(classes, 5)),
            targets: targets)
    }

    func inputs<T: KernelScalar>(_: T.Type) -> (x: Tensor<T>, h0: Tensor<T>) {
        (
            tensor([steps, batch, input], values(steps * batch * input, 6)),
            tensor([batch, hidden], values(batch * hidden, 7))
        )
    }

    func loss(whh: [Double]) -> Double {
        let (x, h0) = inputs(Double.self)
        return cellSequenceForward(cell(Double.self, whh: whh), x: x, h0: h0, head: head(Double.self)).loss
    }

    func backward<T: KernelScalar>(_: T.Type, window: Int? = nil) -> (CellSequenceCache<T>, CellSequenceGradients<T>) {
        let (x, h0) = inputs(T.self)
        let c = cell(T.self), h = head(T.self)
        let cache = cellSequenceForward(c, x: x, h0: h0, head: h)
        var g = CellSequenceGradients(zerosLike: c, head: h, steps: steps, batch: batch)
        cellSequenceBackward(c, cache: cache, head: h, window: window, into: &g)
        return (cache, g)
    }

    func gradientsAgreeWithFiniteDifferences<T: KernelScalar>(_: T.Type) {
        let (_, g) = backward(T.self)
        let base = values(hidden * hidden, 2), eps = 1e-6
        let numeric = (0..<base.count).map { i -> Double in
            var plus = base, minus = base
            plus[i] += eps
            minus[i] -= eps
            return (loss(whh: plus) - loss(whh: minus)) / (2 * eps)
        }
        assertClose(
            g.cell.r.scalars, numeric, abs: T.self == Float.self ? 1e-4 : 1e-8, rel: T.self == Float.self ? 1e-3 : 1e-6)
    }

    @Test func testGradientsAgreeWithFiniteDifferences() {
        gradientsAgreeWithFiniteDifferences(Float.self)
        gradientsAgreeWithFiniteDifferences(Double.self)
    }

    @Test func testWindowCoveringTheSequenceIsFullBPTTAndWindowOneCutsTheRecurrence() {
        let (cache, full) = backward(Double.self)
        let (_, whole) = backward(Double.self, window: steps)
        XCTAssertEqual(full.cell.r, whole.cell.r)
        XCTAssertEqual(full.h0, whole.h0)

        // Window 1: each step's gradient stops at its own state, so dW_hh = Σ_t da_t h_{t−1}ᵀ with
        // da_t = (W_hyᵀ dy_t) ⊙ (1 − h_t²), computed here directly.
        let (_, cut) = backward(Double.self, window: 1)
        let h0 = inputs(Double.self).h0.scalars, why = values(classes * hidden, 4)
        let p = cache.p?.scalars ?? [], h = cache.h.scalars
        var expected = [Double](repeating: 0, count: hidden * hidden)
        for t in 0..<steps {
            for b in 0..<batch {
                var dy = (0..<classes).map { p[(t * batch + b) * classes + $0] }
                dy[targets[t * batch + b]] -= 1
                for j in 0..<hidden {
                    let hT = h[(t * batch + b) * hidden + j]
                    let dh = (0..<classes).reduce(0.0) { $0 + why[$1 * hidden + j] * dy[$1] }
                    let da = dh * (1 - hT * hT)
                    for k in 0..<hidden {
                        let hPrev = t == 0 ? h0[b * hidden + k] : h[((t - 1) * batch + b) * hidden + k]
                        expected[j * hidden + k] += da * hPrev
                    }
                }
            }
        }
        assertClose(cut.cell.r.scalars, expected)
        XCTAssertNotEqual(cut.cell.r, full.cell.r)
    }

    /// A target whose probability underflows to 0 gives a large finite loss, not infinity.
    @Test func testLossStaysFiniteWhenTheTargetProbabilityUnderflows() {
        let c = RecurrentCell<Double>.elman(wxh: tensor([1, 1], [0]), whh: tensor([1, 1], [0]), bh: tensor([1], [1]))
        // h = tanh(1) on every step; logits ±1000·tanh(1); the target is the unlikely class.
        let cache = cellSequenceForward(
            c, x: tensor([1, 1, 1], [0]), h0: tensor([1, 1], [0]),
            head: .crossEntropy(why: tensor([2, 1], [1000, -1000]), by: nil, targets: [1]))
        XCTAssertEqual(cache.p?.scalars[1], 0)
        XCTAssertEqual(cache.loss, 2000 * Foundation.tanh(1.0), accuracy: 1e-9)
    }
}
