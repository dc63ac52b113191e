import Foundation
import XCTest
@testable import RNNKernels

/// BPTT of the Elman language model against central finite differences computed in Double;
/// the Float gradients are compared with that Double reference at a float tolerance.
final class ElmanBPTTTests: XCTestCase {
    let steps = 6, batch = 2, hidden = 3, input = 2, classes = 3
    let targets = [0, 2, 1, 1, 2, 0, 0, 1, 2, 2, 1, 0]

    func values(_ n: Int, _ seed: Double) -> [Double] { (0..<n).map { 0.6 * sin(Double($0) * 1.7 + seed) } }

    func weights<T: KernelScalar>(_: T.Type, whh: [Double]? = nil) -> ElmanWeights<T> {
        ElmanWeights(wxh: tensor([hidden, input], values(hidden * input, 1)),
                     whh: tensor([hidden, hidden], whh ?? values(hidden * hidden, 2)),
                     bh: tensor([hidden], values(hidden, 3)),
                     why: tensor([classes, hidden], values(classes * hidden, 4)), by: tensor([classes], values(classes, 5)))
    }

    func loss(whh: [Double]) -> Double {
        let w = weights(Double.self, whh: whh)
        return elmanSequenceForward(x: values(steps * batch * input, 6), targets: targets, h0: values(batch * hidden, 7),
                                    weights: w, steps: steps, batch: batch).loss
    }

    func gradientsAgreeWithFiniteDifferences<T: KernelScalar>(_: T.Type) {
        let w = weights(T.self)
        let x: [T] = values(steps * batch * input, 6).map { T($0) }, h0: [T] = values(batch * hidden, 7).map { T($0) }
        let cache = elmanSequenceForward(x: x, targets: targets, h0: h0, weights: w, steps: steps, batch: batch)
        var g = ElmanGradients<T>(hidden: hidden, input: input, output: classes, batch: batch)
        elmanSequenceBackward(x: x, targets: targets, h0: h0, weights: w, cache: cache, into: &g)
        let base = values(hidden * hidden, 2), eps = 1e-6
        let numeric = (0..<base.count).map { i -> Double in
            var plus = base, minus = base
            plus[i] += eps
            minus[i] -= eps
            return (loss(whh: plus) - loss(whh: minus)) / (2 * eps)
        }
        assertClose(g.whh, numeric, abs: T.self == Float.self ? 1e-4 : 1e-8, rel: T.self == Float.self ? 1e-3 : 1e-6)
    }

    func testGradientsAgreeWithFiniteDifferences() {
        gradientsAgreeWithFiniteDifferences(Float.self)
        gradientsAgreeWithFiniteDifferences(Double.self)
    }

    func testWindowCoveringTheSequenceIsFullBPTTAndWindowOneCutsTheRecurrence() {
        let w = weights(Double.self)
        let x = values(steps * batch * input, 6), h0 = values(batch * hidden, 7)
        let cache = elmanSequenceForward(x: x, targets: targets, h0: h0, weights: w, steps: steps, batch: batch)
        var full = ElmanGradients<Double>(hidden: hidden, input: input, output: classes, batch: batch)
        elmanSequenceBackward(x: x, targets: targets, h0: h0, weights: w, cache: cache, into: &full)
        var whole = ElmanGradients<Double>(hidden: hidden, input: input, output: classes, batch: batch)
        elmanSequenceBackward(x: x, targets: targets, h0: h0, weights: w, cache: cache, window: steps, into: &whole)
        XCTAssertEqual(full.whh, whole.whh)
        XCTAssertEqual(full.h0, whole.h0)

        // Window 1: each step's gradient stops at its own state, so dW_hh = Σ_t da_t h_{t−1}ᵀ with
        // da_t = (W_hyᵀ dy_t) ⊙ (1 − h_t²), computed here directly.
        var cut = ElmanGradients<Double>(hidden: hidden, input: input, output: classes, batch: batch)
        elmanSequenceBackward(x: x, targets: targets, h0: h0, weights: w, cache: cache, window: 1, into: &cut)
        var expected = [Double](repeating: 0, count: hidden * hidden)
        for t in 0..<steps {
            for b in 0..<batch {
                var dy = (0..<classes).map { cache.p[(t * batch + b) * classes + $0] }
                dy[targets[t * batch + b]] -= 1
                for j in 0..<hidden {
                    let hT = cache.h[(t * batch + b) * hidden + j]
                    let dh = (0..<classes).reduce(0.0) { $0 + w.why!.scalars[$1 * hidden + j] * dy[$1] }
                    let da = dh * (1 - hT * hT)
                    for k in 0..<hidden {
                        let hPrev = t == 0 ? h0[b * hidden + k] : cache.h[((t - 1) * batch + b) * hidden + k]
                        expected[j * hidden + k] += da * hPrev
                    }
                }
            }
        }
        assertClose(cut.whh, expected)
        XCTAssertNotEqual(cut.whh, full.whh)
    }

    /// A target whose probability underflows to 0 gives a large finite loss, not infinity.
    func testLossStaysFiniteWhenTheTargetProbabilityUnderflows() {
        let w = ElmanWeights<Double>(wxh: tensor([1, 1], [0]), whh: tensor([1, 1], [0]), bh: tensor([1], [1]),
                                     why: tensor([2, 1], [1000, -1000]), by: nil)
        // h = tanh(1) on every step; logits ±1000·tanh(1); the target is the unlikely class.
        let cache = elmanSequenceForward(x: [0], targets: [1], h0: [0], weights: w, steps: 1, batch: 1)
        XCTAssertEqual(cache.p[1], 0)
        XCTAssertEqual(cache.loss, 2000 * Foundation.tanh(1.0), accuracy: 1e-9)
    }
}
