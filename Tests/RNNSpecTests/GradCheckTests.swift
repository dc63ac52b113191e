import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec

@Suite final class GradCheckTests {
    let bptt = """
        kernel: rnn.bptt
        inputs:
          x: {random: normal, shape: [4, 2], seed: 1}
          targets: [0, 1, 1, 0]
          W_xh: {random: normal, shape: [3, 2], seed: 2}
          W_hh: {random: normal, shape: [3, 3], seed: 3}
          W_hy: {random: normal, shape: [2, 3], seed: 4}

        """

    @Test func testGradcheckPassesForTrueGradients() throws {
        let p = try TempProject()
        try p.writeCase("g", bptt + "gradcheck: {wrt: [W_hh, W_xh, W_hy]}\n")
        let r = try p.result("g", record: .all)
        XCTAssertEqual(r.status, .pass, r.detailText())
    }

    @Test func testGradcheckFailsWhenGradientsAreNotTheLossGradient() throws {
        // Clipped gradients are not dloss/dW: the check must notice.
        let p = try TempProject()
        try p.writeCase(
            "g",
            bptt.replacingOccurrences(of: "kernel: rnn.bptt\n", with: "kernel: rnn.bptt\nparams: {clip: 0.01}\n")
                + "gradcheck: {wrt: [W_hh], eps: 1e-6, abs: 1e-7, rel: 1e-5}\n")
        let r = try p.result("g")
        XCTAssertEqual(r.status, .new)
        let m = try XCTUnwrap(r.mismatches.first)
        XCTAssertEqual(m.reference, .gradcheck)
        XCTAssertEqual(m.output, "dW_hh")
        XCTAssertEqual(m.location?.description, "cases/g.yaml:9:12")
        XCTAssertEqual(
            m.lines.first,
            "cases/g.yaml:9:12: shape [3, 3] float64: 9 of 9 elements differ from the finite differences beyond abs 1e-07, rel 1e-05"
        )
    }

    @Test func testGradcheckWithoutTheUpstreamGradientSaysWhatIsMissing() throws {
        // The framework kernels report loss and gradients only when an upstream gradient is given.
        let p = try TempProject()
        try p.writeCase(
            "g",
            """
            kernel: torch.RNN
            params: {input_size: 1, hidden_size: 1}
            inputs:
              input: [[[0.5]], [[-1.0]]]
              weight_ih_l0: [[0.3]]
              weight_hh_l0: [[0.7]]
              bias_ih_l0: [0.1]
              bias_hh_l0: [0.0]
            gradcheck: {wrt: [weight_hh_l0]}

            """)
        let r = try p.result("g", record: .all)
        XCTAssertFalse(r.status.isSuccess, r.detailText())
        XCTAssertTrue(
            r.detailText().contains(
                "gradcheck: torch.RNN reported no 'loss' for this case; loss is Σ doutput⊙output + Σ dh_n⊙h_n over the upstream gradients given; reported (with the d<input> gradients) only when at least one of doutput, dh_n is given"
            ), r.detailText())
    }

    @Test func testGradcheckFieldsAreValidated() throws {
        let p = try TempProject()
        XCTAssertEqual(
            try p.loadError(bptt + "gradcheck: {wrt: [W_hx]}\n"),
            """
            cases/c.yaml:8:19: error: rnn.bptt reports no gradient for 'W_hx'; did you mean 'W_hh'? (it reports gradients for h0, W_xh, W_hh, b_h, W_hy and b_y)
            gradcheck: {wrt: [W_hx]}
                              ^
            """)
        XCTAssertEqual(
            try p.loadError(bptt + "gradcheck: {wrt: [h0]}\n"),
            """
            cases/c.yaml:8:19: error: gradcheck wrt 'h0' needs the input 'h0' in the case (its default is not differentiated)
            gradcheck: {wrt: [h0]}
                              ^
            """)
        XCTAssertEqual(
            try p.loadError(simpleStepCase + "gradcheck: {wrt: [W_hh]}\n"),
            """
            cases/c.yaml:7:12: error: rnn.step reports no gradients, so it has nothing to gradcheck
            gradcheck: {wrt: [W_hh]}
                       ^
            """)
    }

    /// A list of tensors (Keras's initial_state) is gradchecked tensor by tensor, against its stacked gradient.
    @Test func testGradcheckOfAListInput() throws {
        let p = try TempProject()
        try p.writeCase(
            "g",
            """
            kernel: keras.LSTM
            params: {units: 2, return_sequences: true}
            inputs:
              inputs: {random: normal, shape: [1, 3, 2], seed: 1}
              kernel: {random: normal, shape: [2, 8], seed: 2}
              recurrent_kernel: {random: normal, shape: [2, 8], seed: 3}
              bias: {random: normal, shape: [8], seed: 4}
              initial_state: [[[0.3, -0.2]], [[0.5, 0.1]]]
              doutput: {random: normal, shape: [1, 3, 2], seed: 5}
            gradcheck: {wrt: [initial_state]}

            """)
        let r = try p.result("g", record: .all)
        XCTAssertEqual(r.status, .pass, r.detailText())
        let list = Value.list([
            .real(RealTensor(Tensor(shape: [2], scalars: [1, 2]))), .real(RealTensor(Tensor(shape: [1], scalars: [3]))),
        ])
        let parts = try XCTUnwrap(GradCheck.perturbable(list))
        XCTAssertEqual(parts.map(\.tensor.scalars), [[1, 2], [3]])
        XCTAssertEqual(GradCheck.rebuilt(list, parts), list)
        XCTAssertNil(GradCheck.perturbable(.list([])))
    }
}
