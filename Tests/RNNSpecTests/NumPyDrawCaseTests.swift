import Foundation
import TestAssertions
import Testing

@testable import RNNKernels
@testable import RNNSpec

/// `rng:` and `{draw: ...}` inputs in case files.
@Suite final class NumPyDrawCaseTests {
    private func load(_ text: String, limits: LoadLimits = LoadLimits()) throws -> Case {
        try CaseLoader(limits: limits).load(data: Data(text.utf8), id: "c", displayPath: "cases/c.yaml")
    }

    private func loadError(_ text: String, limits: LoadLimits = LoadLimits()) -> String {
        do {
            _ = try load(text, limits: limits)
            return "(loaded)"
        } catch { return "\(error)" }
    }

    private func reals(_ c: Case, _ name: String) -> [Double] {
        guard case .real(let t)? = c.inputs[name] else { return [] }
        return t.tensor.scalars
    }

    /// Inputs are drawn from one stream in the order they are written, whatever the kernel's order.
    @Test func testInputsAreDrawnInFileOrderFromOneStream() throws {
        let text = """
            kernel: rnn.step
            rng: {numpy: default_rng, seed: 1}
            inputs:
              h_prev: {draw: normal, size: 2}
              x: {draw: normal, scale: 0.3, size: 2}
              W_xh: {eye: 2}
              W_hh: {draw: uniform, low: -1, high: 1, size: [2, 2]}

            """
        let c = try load(text)
        var g = NumPyGenerator(seed: 1)
        let hPrev = (0..<2).map { _ in g.normal() }
        let x = (0..<2).map { _ in g.normal(loc: 0, scale: 0.3) }
        let whh = (0..<4).map { _ in g.uniform(low: -1, high: 1) }
        XCTAssertEqual(reals(c, "h_prev"), hPrev)
        XCTAssertEqual(reals(c, "x"), x)
        XCTAssertEqual(reals(c, "W_hh"), whh)
        // Swapping the two lines swaps which numbers each input gets.
        let swapped = try load(
            text.replacingOccurrences(
                of: "  h_prev: {draw: normal, size: 2}\n  x: {draw: normal, scale: 0.3, size: 2}\n",
                with: "  x: {draw: normal, scale: 0.3, size: 2}\n  h_prev: {draw: normal, size: 2}\n"))
        XCTAssertEqual(reals(swapped, "x"), hPrev.map { 0.0 + 0.3 * $0 })
        XCTAssertNotEqual(reals(swapped, "h_prev"), hPrev)
    }

    /// `discard:` makes the earlier cells' draws first; legacy draws keep the cached second normal
    /// across inputs; `times:` multiplies (NumPy's `randn(...) * 0.01`).
    @Test func testDiscardLegacyCacheAndTimes() throws {
        let c = try load(
            """
            kernel: rnn.step
            rng:
              numpy: legacy
              seed: 42
              discard: [{draw: randn, size: 3}]
            inputs:
              x: {draw: randn, size: 1, times: 0.01}
              h_prev: {draw: normal, loc: 1, scale: 2, size: 1}
              W_xh: {draw: rand, size: [1, 1]}
              W_hh: {draw: randn, size: [1, 1]}

            """)
        var g = NumPyRandomState(seed: 42)
        for _ in 0..<3 { _ = g.standardNormal() }
        XCTAssertEqual(reals(c, "x"), [g.standardNormal() * 0.01])  // the cached value of the second pair
        XCTAssertEqual(reals(c, "h_prev"), [g.normal(loc: 1, scale: 2)])
        XCTAssertEqual(reals(c, "W_xh"), [g.randomSample()])
        XCTAssertEqual(reals(c, "W_hh"), [g.standardNormal()])
    }

    /// Integer inputs draw with integers/randint/choice; a list of tensors draws item by item.
    @Test func testIntegerAndListDraws() throws {
        let c = try load(
            """
            kernel: rnn.bptt
            rng: {numpy: default_rng, seed: 0}
            inputs:
              W_xh: {draw: normal, scale: 0.5, size: [3, 4]}
              W_hh: {draw: normal, scale: 0.5, size: [3, 3]}
              W_hy: {draw: normal, scale: 0.5, size: [4, 3]}
              x: {eye: 4}
              targets: {draw: integers, low: 0, high: 4, size: 4}

            """)
        var g = NumPyGenerator(seed: 0)
        for _ in 0..<(12 + 9 + 12) { _ = g.normal() }
        let t = try (0..<4).map { _ in Int(try g.integers(low: 0, high: 4)) }
        guard case .integer(let got)? = c.inputs["targets"] else { return XCTFail("targets not integers") }
        XCTAssertEqual(got.scalars, t)

        let clip = try load(
            """
            kernel: grad.clip_norm
            params: {max_norm: 5.0}
            rng: {numpy: default_rng, seed: 0}
            inputs:
              g:
                - {draw: normal, scale: 2.0, size: [2, 3]}
                - [1.0, 2.0]
                - {draw: normal, scale: 2.0, size: 2}

            """)
        var h = NumPyGenerator(seed: 0)
        let first = (0..<6).map { _ in h.normal(loc: 0, scale: 2) },
            third = (0..<2).map { _ in h.normal(loc: 0, scale: 2) }
        guard case .list(let items)? = clip.inputs["g"], items.count == 3, case .real(let a) = items[0],
            case .real(let b) = items[2]
        else {
            return XCTFail("g is not a list of three tensors")
        }
        XCTAssertEqual(a.tensor.scalars, first)
        XCTAssertEqual(a.shape, [2, 3])
        XCTAssertEqual(b.tensor.scalars, third)
    }

    /// `one_hot: V` is `np.eye(V)[rng.integers(...)]`: one-hot rows of the drawn ids, which advance
    /// the stream as the ids do.
    @Test func testOneHotRowsOfDrawnIds() throws {
        let c = try load(
            """
            kernel: rnn.bptt
            rng: {numpy: default_rng, seed: 3}
            inputs:
              W_xh: {draw: normal, size: [2, 5]}
              W_hh: [[0.0, 0.0], [0.0, 0.0]]
              W_hy: [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5], [0.0, 0.0]]
              x: {draw: integers, high: 5, size: 6, one_hot: 5}
              targets: {draw: integers, high: 5, size: 6}

            """)
        var g = NumPyGenerator(seed: 3)
        for _ in 0..<10 { _ = g.normal() }
        let ids = try (0..<6).map { _ in Int(try g.integers(low: 0, high: 5)) }
        let targets = try (0..<6).map { _ in Int(try g.integers(low: 0, high: 5)) }
        guard case .real(let x)? = c.inputs["x"] else { return XCTFail("x is not real") }
        XCTAssertEqual(x.shape, [6, 5])
        XCTAssertEqual(x.tensor.scalars, ids.flatMap { id in (0..<5).map { $0 == id ? 1.0 : 0.0 } })
        guard case .integer(let t)? = c.inputs["targets"] else { return XCTFail("targets not integers") }
        XCTAssertEqual(t.scalars, targets, "the one-hot draw advanced the stream by exactly its ids")

        // The legacy stream's choice works too; ids must fit the vocabulary.
        let legacy = try load(
            """
            kernel: rnn.sequence
            rng: {numpy: legacy, seed: 7}
            inputs:
              x: {draw: choice, n: 3, p: [0.2, 0.3, 0.5], size: 4, one_hot: 4}
              h0: [0.0]
              W_xh: [[1.0, 1.0, 1.0, 1.0]]
              W_hh: [[0.5]]

            """)
        var r = NumPyRandomState(seed: 7)
        let picks = try r.choice(3, p: [0.2, 0.3, 0.5], size: 4)
        guard case .real(let lx)? = legacy.inputs["x"] else { return XCTFail("x is not real") }
        XCTAssertEqual(lx.tensor.scalars, picks.flatMap { id in (0..<4).map { $0 == id ? 1.0 : 0.0 } })
    }

    /// Bad draws are located errors naming the problem.
    @Test func testBadDrawsAreLocatedErrors() {
        let base =
            "kernel: rnn.step\nrng: {numpy: default_rng, seed: 1}\ninputs:\n  x: X\n  h_prev: [0.0]\n  W_xh: [[1.0]]\n  W_hh: [[1.0]]\n"
        func err(_ x: String, rng: String? = nil, limits: LoadLimits = LoadLimits()) -> String {
            var t = base.replacingOccurrences(of: "X", with: x)
            if let rng { t = t.replacingOccurrences(of: "rng: {numpy: default_rng, seed: 1}", with: rng) }
            return loadError(t, limits: limits)
        }
        XCTAssertTrue(
            err("{draw: normal, size: 1}", rng: "title: t").contains(
                "cases/c.yaml:4:6: error: input 'x' draws from NumPy, but the case has no rng"),
            err("{draw: normal, size: 1}", rng: "title: t"))
        XCTAssertTrue(
            err("{draw: normall, size: 1}").contains(
                "4:13: error: input 'x': default_rng has no method 'normall'; did you mean 'normal'?"))
        XCTAssertTrue(err("{draw: randn, size: 1}").contains("default_rng has no method 'randn'"))
        XCTAssertTrue(
            err("{draw: integers, high: 3, size: 1}").contains(
                "input 'x' holds real numbers, but 'integers' draws integers; one_hot: V makes one-hot rows of them"))
        XCTAssertTrue(
            err("{draw: normal, size: 1, one_hot: 3}").contains(
                "one_hot: takes integer draws (integers, randint, choice), not 'normal'"))
        XCTAssertTrue(
            err("{draw: integers, high: 4, size: 1, one_hot: 3}").contains("ids from [0, 4) do not fit one_hot: 3"))
        XCTAssertTrue(err("{draw: integers, high: 4, size: 1, one_hot: 0}").contains("one_hot: must be ≥ 1"))
        XCTAssertTrue(
            err("{draw: integers, high: 4, size: 2, one_hot: 4}", limits: LoadLimits(maxElements: 7)).contains(
                "over the limit of 7"))
        XCTAssertTrue(err("{draw: normal, low: 1, size: 1}").contains("'normal' takes loc and scale, not 'low'"))
        XCTAssertTrue(err("{draw: normal, sise: 1}").contains("did you mean 'size'?"))
        XCTAssertTrue(
            err("{draw: normal, size: [2, 3]}", limits: LoadLimits(maxElements: 5)).contains("over the limit of 5"))
        XCTAssertTrue(
            err("{draw: normal, size: 1}", rng: "rng: {numpy: legacy, seed: 4294967296}").contains(
                "2:28: error: rng: seed must be between 0 and 2**32 - 1 for np.random.seed, found 4294967296"))
        XCTAssertTrue(
            err("{draw: normal, size: 1}", rng: "rng: {numpy: default_rg, seed: 1}").contains(
                "did you mean 'default_rng'?"))
        XCTAssertTrue(
            err("{draw: normal, size: 1}", rng: "rng: {numpy: legacy, seed: 1, discard: [[1, 2]]}").contains(
                "rng: discard[0] must be a draw"))
        XCTAssertTrue(
            err(
                "{draw: normal, size: 1}",
                rng: "rng: {numpy: legacy, seed: 1, discard: [{draw: choice, n: 2, p: [0.5, 0.6]}]}"
            )
            .contains("rng: discard[0]: probabilities do not sum to 1"))
    }

    /// The converted seed cases draw exactly the numbers their goldens were written for: their digest
    /// equals the golden's (so `rnnspec regen --all` writes nothing).
    @Test func testSeedCasesDrawTheirGoldensNumbers() throws {
        let ids = [
            "theory/s01_vanilla_rnn_sequence", "theory/s06_lstm_step_fiog_concat",
            "theory/s08_gru_step_reset_before_matmul",
            "theory/s11_attention_over_encoder_states", "theory/s13_gate_saturation",
            "article/elman_step_with_output_layer",
            "article/clip_gradients_global_norm_above", "article/clip_gradients_global_norm_below",
            "article/lstm_step_separate_weights", "article/minibatch_hidden_state",
            "article/bptt_forward_backward", "article/bptt_forward_pass",
        ]
        for id in ids {
            let url = repositoryRoot.appendingPathComponent("cases/\(id).yaml")
            let text = try String(contentsOf: url, encoding: .utf8)
            XCTAssertTrue(text.contains("{draw: "), "\(id) draws its inputs")
            let c = try CaseLoader().load(url: url, id: id, displayPath: "cases/\(id).yaml")
            let golden = try String(
                contentsOf: repositoryRoot.appendingPathComponent("golden/\(id).yaml"), encoding: .utf8)
            let digestLine = golden.split(separator: "\n").first { $0.hasPrefix("digest: ") }
            XCTAssertEqual(digestLine.map { String($0.dropFirst(8)) }, c.digest, id)
        }
    }
}
