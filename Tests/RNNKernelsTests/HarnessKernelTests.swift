import Foundation
import TestAssertions
import Testing

@testable import RNNKernels

/// The Elman step, clipping, the masked mean, softmax and gemm against hand-derived values, in Float and
/// Double.
@Suite final class HarnessKernelTests {
    func elmanStepByHand<T: KernelScalar>(_: T.Type) {
        // Exercise 1 of seed 001: a = [1, -1] + 0.5·[0.5, 0] = [1.25, -1].
        let cell = RecurrentCell<T>.elman(wxh: tensor([2, 2], [1, 0, 0, 1]), whh: tensor([2, 2], [0.5, 0, 0, 0.5]))
        let r = cell.forward(x: tensor([1, 2], [1, -1]), hPrev: tensor([1, 2], [0.5, 0]))
        assertClose(r.preactivations?.scalars ?? [], [1.25, -1])
        assertClose(r.h.scalars, [Foundation.tanh(1.25), Foundation.tanh(-1.0)])
        XCTAssertEqual(r.h.shape, [1, 2])
    }

    @Test func testElmanStepByHand() {
        elmanStepByHand(Float.self)
        elmanStepByHand(Double.self)
    }

    func elmanStepWithOutputLayer<T: KernelScalar>(_: T.Type) {
        // Seed 004, question 2, first step: a = b = [1, 0], h = [tanh 1, 0],
        // o = V h = [tanh 1, −tanh 1], y = softmax(o) = [0.8210075, 0.1789925] (printed).
        let cell = RecurrentCell<T>.elman(
            wxh: tensor([2, 2], [1, 1, -1, 1]), whh: tensor([2, 2], [1, 1, 0, 1]), bh: tensor([2], [1, 0]))
        // A batch of two identical rows checks that rows do not mix.
        let r = cell.forward(x: tensor([2, 2], [0, 0, 0, 0]), hPrev: tensor([2, 2], [0, 0, 0, 0]))
        let (y, p) = affineSoftmax(r.h, weight: tensor([2, 2], [1, -1, -1, 1]), bias: nil)
        let t1 = Foundation.tanh(1.0)
        assertClose(r.h.scalars, [t1, 0, t1, 0])
        assertClose(y.scalars, [t1, -t1, t1, -t1])
        let p0 = 1 / (1 + Foundation.exp(-2 * t1))
        assertClose(p.scalars, [p0, 1 - p0, p0, 1 - p0])
        assertClose(p.scalars, [0.8210075, 0.1789925, 0.8210075, 0.1789925], abs: 5e-8, rel: 0)
    }

    @Test func testElmanStepWithOutputLayer() {
        elmanStepWithOutputLayer(Float.self)
        elmanStepWithOutputLayer(Double.self)
    }

    func clipping<T: KernelScalar>(_: T.Type) {
        // ‖[3, 4, 12]‖ = 13; scale 5/13.
        let r = clipByGlobalNorm([tensor([3], [3, 4, 12]) as Tensor<T>], maxNorm: 5)
        assertClose([r.norm, r.scale], [13, 5.0 / 13])
        assertClose(r.clipped[0].scalars, [15.0 / 13, 20.0 / 13, 60.0 / 13])
        assertClose([r.clippedNorm], [5])
        // Global norm over a list: ‖[3], [4]‖ = 5 ≤ 5 leaves it unchanged.
        let l = clipByGlobalNorm([tensor([1], [3]), tensor([1, 1], [4])] as [Tensor<T>], maxNorm: 5)
        XCTAssertEqual(l.scale, 1)
        XCTAssertEqual(l.clipped.map(\.shape), [[1], [1, 1]])
        // Zero norm: unchanged, no division by zero.
        let z = clipByGlobalNorm([tensor([2], [0, 0]) as Tensor<T>], maxNorm: 1)
        XCTAssertEqual(z.scale, 1)
        XCTAssertEqual(z.norm, 0)
        // PyTorch's epsilon: scale = 1 / (2 + 1e-6).
        let e = clipByGlobalNorm([tensor([1], [2]) as Tensor<T>], maxNorm: 1, epsilon: T(1e-6))
        assertClose([e.scale], [1 / (2 + 1e-6)])
        // Huge values do not overflow the sum of squares.
        let big = clipByGlobalNorm([tensor([2], [3e200, 4e200]) as Tensor<Double>], maxNorm: 1)
        XCTAssertEqual(big.norm, 5e200, accuracy: 1e186)
        // Non-finite norm: scale NaN.
        XCTAssertTrue(clipByGlobalNorm([tensor([1], [.infinity]) as Tensor<T>], maxNorm: 1).scale.isNaN)
    }

    @Test func testClipping() {
        clipping(Float.self)
        clipping(Double.self)
    }

    func masked<T: KernelScalar>(_: T.Type) {
        // Seed 000 §9: (0.4 + 0.5 + 0.8 + 0.7 + 0.6) / 5 = 0.6; unmasked 3.0 / 8 = 0.375.
        let r = maskedMean(
            losses: tensor([2, 4], [0.4, 0.5, 0.8, 0, 0.7, 0.6, 0, 0]) as Tensor<T>,
            mask: tensor([2, 4], [1, 1, 1, 0, 1, 1, 0, 0]))
        assertClose([r.masked, r.unmasked, r.weight], [0.6, 0.375, 5])
        // No real tokens: NaN, and padding's NaN loss never leaks in.
        let none = maskedMean(losses: tensor([2], [1, .nan]) as Tensor<T>, mask: tensor([2], [0, 0]))
        XCTAssertTrue(none.masked.isNaN)
        let padded = maskedMean(losses: tensor([2], [1, .nan]) as Tensor<T>, mask: tensor([2], [1, 0]))
        XCTAssertEqual(padded.masked, 1)
    }

    @Test func testMaskedMean() {
        masked(Float.self)
        masked(Double.self)
    }

    @Test func testSoftmaxIsStableAtExtremes() {
        let p = softmax([1000.0, 0, -1000])
        XCTAssertEqual(p[0], 1)
        XCTAssertEqual(p[2], 0)
        XCTAssertEqual(softmax([Double.infinity, 1, .infinity]), [0.5, 0, 0.5])
        XCTAssertEqual(sigmoid(-1000.0), 0)
        XCTAssertEqual(sigmoid(1000.0), 1)
        XCTAssertEqual(sigmoid(Float(-100)), 0, accuracy: 1e-30)
        let ls = logSoftmax([1000.0, 0])
        XCTAssertEqual(ls[0], 0)
        XCTAssertEqual(ls[1], -1000)
    }

    func gemmAgainstNaive<T: KernelScalar>(_: T.Type) {
        let m = 3, n = 4, k = 5
        let a: [T] = (0..<(m * k)).map { T(Double($0 % 7) - 3) / 4 }
        let b: [T] = (0..<(k * n)).map { T(Double($0 % 5) - 2) / 3 }
        var c = [T](repeating: 0, count: m * n)
        gemm(a, b, into: &c, m: m, n: n, k: k)
        var expected = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n { for p in 0..<k { expected[i * n + j] += Double(a[i * k + p]) * Double(b[p * n + j]) } }
        }
        assertClose(c, expected)
        // Transposed operands: Aᵀ laid out [K, M], Bᵀ laid out [N, K].
        var at = [T](repeating: 0, count: k * m), bt = [T](repeating: 0, count: n * k)
        for i in 0..<m { for p in 0..<k { at[p * m + i] = a[i * k + p] } }
        for p in 0..<k { for j in 0..<n { bt[j * k + p] = b[p * n + j] } }
        var c2 = [T](repeating: 1, count: m * n)
        gemm(at, bt, into: &c2, m: m, n: n, k: k, transposeA: true, transposeB: true, accumulate: true)
        assertClose(c2, expected.map { $0 + 1 })
    }

    @Test func testGemm() {
        gemmAgainstNaive(Float.self)
        gemmAgainstNaive(Double.self)
    }
}
