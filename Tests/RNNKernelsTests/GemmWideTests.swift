import Foundation
import RNNKernelsSIMD
import TestAssertions
import Testing

@testable import RNNKernels

/// The AVX-512 paths (GemmWide.c's 8-row tiles of the prepacked product, VectorMathWide.c's sigmoid
/// and tanh) against the AVX2 paths, bit for bit: every result of rnnspec must not depend on which of them
/// the CPU runs. Skipped where the CPU has no AVX-512 (nothing to compare); `VectorMathTests` compares the
/// vector functions' copies with the baseline.
@Suite final class GemmWideTests {
    /// The CPU probe agrees with the kernel's account of the CPU.
    @Test func testProbeFollowsCPUFlags() {
        #if arch(x86_64) && os(Linux)
        let flags = cpuFlags()
        XCTAssertEqual(wideSettings.count == 2, packedGemmAvailable && flags.contains("avx512f"))
        #else
        XCTAssertEqual(wideSettings, [false])
        #endif
    }

    /// C of `rnn_prepacked_blocked_*` on A (m × k, transposed or not) and B's panels, with the AVX-512 tiles on
    /// or off: panels q0 ..< q1 into a C that starts from a pattern (so `accumulate` and untouched columns
    /// show), with or without an initial row.
    func prepacked<T: KernelScalar>(
        _: T.Type, m: Int, n: Int, k: Int, q0: Int, q1: Int, accumulate: Bool, withInit: Bool, transposedA: Bool,
        wide: Bool, seed: UInt64
    ) -> [T] {
        var g = SplitMix64(state: seed)
        func values(_ count: Int) -> [T] { (0..<count).map { _ in T(Double.random(in: -1...1, using: &g)) } }
        let a = values(m * k), b = values(k * n), rowInit = values(n)
        var c = (0..<(m * n)).map { T(Double($0 % 17) / 16) }
        let (ars, acs) = transposedA ? (1, m) : (k, 1)
        withWidePaths(wide) {
            if let a = a as? [Float], let b = b as? [Float], let rowInit = rowInit as? [Float] {
                var panels = [Float](repeating: 0, count: rnn_panel_elements_f32(k, n))
                rnn_pack_panels_f32(b, k, n, 0, &panels)
                var out = c as! [Float]
                rnn_prepacked_blocked_f32(
                    a, ars, acs, panels, &out, n, m, n, k, q0, q1, accumulate ? 1 : 0, withInit ? rowInit : nil)
                c = out as! [T]
            } else if let a = a as? [Double], let b = b as? [Double], let rowInit = rowInit as? [Double] {
                var panels = [Double](repeating: 0, count: rnn_panel_elements_f64(k, n))
                rnn_pack_panels_f64(b, k, n, 0, &panels)
                var out = c as! [Double]
                rnn_prepacked_blocked_f64(
                    a, ars, acs, panels, &out, n, m, n, k, q0, q1, accumulate ? 1 : 0, withInit ? rowInit : nil)
                c = out as! [T]
            }
        }
        return c
    }

    /// Row counts that are multiples of 8 (the wide tiles' rows; others keep the AVX2 tiles) up to past a row
    /// block (MC: 288 floats, 72 doubles); column counts with an odd number of panels and a partial last
    /// panel; depths past a depth block (KC = 256); panel ranges that start and end inside; `accumulate`;
    /// an initial row; A transposed.
    func compareProducts<T: KernelScalar>(_: T.Type) throws {
        try XCTSkipUnless(wideSettings.count == 2, "this CPU has no AVX-512 tiles")
        let width = T.self == Float.self ? 16 : 8
        var seed: UInt64 = 1
        var compared = 0
        for (m, n, k) in [
            (8, 16, 1), (8, 2 * width, 7), (16, 9 * width, 128), (24, 3 * width + 5, 300), (32, width - 3, 64),
            (296, 2 * width + 1, 40), (80, 5 * width, 257), (16, 3 * width, 513),
        ] {
            let panels = (n + width - 1) / width
            for (q0, q1) in [(0, panels), (1, panels), (0, max(1, panels - 1))] where q0 < q1 {
                for (accumulate, withInit) in [(false, false), (true, false), (false, true)] {
                    for transposedA in [false, true] {
                        seed += 1
                        func run(_ wide: Bool) -> [T] {
                            prepacked(
                                T.self, m: m, n: n, k: k, q0: q0, q1: q1, accumulate: accumulate, withInit: withInit,
                                transposedA: transposedA, wide: wide, seed: seed)
                        }
                        let label =
                            "\(T.self) m \(m) n \(n) k \(k) panels \(q0)..<\(q1) accumulate \(accumulate) "
                            + "init \(withInit) Aᵀ \(transposedA)"
                        assertSameBits(run(true), run(false), label)
                        compared += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(compared, 100)
    }

    @Test func testPrepackedProductFloat() throws { try compareProducts(Float.self) }
    @Test func testPrepackedProductDouble() throws { try compareProducts(Double.self) }

    /// The fused LSTM and GRU passes (forward split by batch rows and by hidden units, then the fused
    /// backward), whose step products have 8, 16 or 32 rows, with the AVX-512 paths on and off: the same
    /// outputs, states and gradients. The setting reaches the passes' threads (`rnn_run_parts`).
    func compareSequences<T: KernelScalar>(_: T.Type) throws {
        try XCTSkipUnless(wideSettings.count == 2, "this CPU has no AVX-512 paths")
        for kind in [CellKind.lstm, .gru] {
            for (batch, hidden) in [(16, 224), (32, 160), (8, 520)] {
                var rng = TestRNG(UInt64(batch * 1000 + hidden))
                func rand(_ s: [Int], _ scale: Double = 0.5) -> Tensor<T> { rng.tensor(s, scale: scale).converted() }
                let g = kind.gateCount, h = hidden, steps = 9, input = 24
                let cell = RecurrentCell(
                    conventions: CellConventions(kind: kind),
                    parameters: CellParameters(
                        w: rand([g * h, input]), r: rand([g * h, h], 1 / Double(h).squareRoot()), bw: rand([g * h]),
                        br: rand([g * h])))
                let x = rand([steps, batch, input]), h0 = rand([batch, h]), dy = rand([steps, batch, h], 1)
                let c0: Tensor<T>? = kind == .lstm ? rand([batch, h]) : nil
                let label = "\(T.self) \(kind) B\(batch) H\(hidden)"
                func run(_ wide: Bool) -> (SequenceRun<T>, CellSequenceGradients<T>?) {
                    let before = rnn_simd_wide_products_for_testing()
                    defer { counts[wide ? 1 : 0] = rnn_simd_wide_products_for_testing() - before }
                    return withWidePaths(wide) {
                        let run = runSequence(cell, x: x, h0: h0, c0: c0)
                        let spec = SequenceBackwardSpec<T>(head: .upstream(dy: dy))
                        var grads = CellSequenceGradients(zerosLike: cell, head: spec.head, steps: steps, batch: batch)
                        let fused = cell.fusedSequenceBackward(run: run, spec, into: &grads)
                        return (run, fused ? grads : nil)
                    }
                }
                var counts = [0, 0]
                let (wide, wideGrads) = run(true), (narrow, narrowGrads) = run(false)
                // The passes' threads took on the setting: on, the step products (16 or 32 rows, 8 or 16 a
                // part) ran the wide tiles; off, none did (the count is this thread's and its passes').
                XCTAssertEqual(counts[0], 0, "\(label): products by the wide tiles with them off")
                if batch >= 16 {
                    XCTAssertGreaterThanOrEqual(counts[1], 2 * steps, "\(label): products by the wide tiles")
                }
                XCTAssertNotNil(wide.tape?.fused, "\(label): the fused forward ran")
                assertSameBits(wide.outputs, narrow.outputs, "\(label): outputs")
                assertSameBits(wide.hLast, narrow.hLast, "\(label): h_last")
                assertSameBits(wide.cLast, narrow.cLast, "\(label): c_last")
                if batch >= 16 {
                    XCTAssertNotNil(wideGrads, "\(label): the fused backward ran")
                }
                if let wideGrads, let narrowGrads {
                    assertSameBits(wideGrads.cell.w.scalars, narrowGrads.cell.w.scalars, "\(label): dW")
                    assertSameBits(wideGrads.cell.r.scalars, narrowGrads.cell.r.scalars, "\(label): dR")
                    assertSameBits(wideGrads.h0.scalars, narrowGrads.h0.scalars, "\(label): dh0")
                }
            }
        }
    }

    @Test func testFusedSequencesFloat() throws { try compareSequences(Float.self) }
    @Test func testFusedSequencesDouble() throws { try compareSequences(Double.self) }
}
