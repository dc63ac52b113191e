import XCTest
@testable import RNNSpec

final class GradCheckTests: XCTestCase {
    let bptt = """
        kernel: rnn.bptt
        inputs:
          x: {random: normal, shape: [4, 2], seed: 1}
          targets: [0, 1, 1, 0]
          W_xh: {random: normal, shape: [3, 2], seed: 2}
          W_hh: {random: normal, shape: [3, 3], seed: 3}
          W_hy: {random: normal, shape: [2, 3], seed: 4}

        """

    func testGradcheckPassesForTrueGradients() throws {
        let p = try TempProject()
        try p.writeCase("g", bptt + "gradcheck: {wrt: [W_hh, W_xh, W_hy]}\n")
        let r = try p.result("g", record: .all)
        XCTAssertEqual(r.status, .pass, r.detailText())
    }

    func testGradcheckFailsWhenGradientsAreNotTheLossGradient() throws {
        // Clipped gradients are not dloss/dW: the check must notice.
        let p = try TempProject()
        try p.writeCase("g", bptt.replacingOccurrences(of: "kernel: rnn.bptt\n", with: "kernel: rnn.bptt\nparams: {clip: 0.01}\n")
                        + "gradcheck: {wrt: [W_hh], eps: 1e-6, abs: 1e-7, rel: 1e-5}\n")
        let r = try p.result("g")
        XCTAssertEqual(r.status, .new)
        let m = try XCTUnwrap(r.mismatches.first)
        XCTAssertEqual(m.reference, .gradcheck)
        XCTAssertEqual(m.output, "dW_hh")
        XCTAssertTrue(m.detail.hasPrefix("cases/g.yaml:9:12: shape [3, 3]: 9 of 9 elements differ from the finite differences beyond abs 1e-07, rel 1e-05"), m.detail)
    }

    func testGradcheckFieldsAreValidated() throws {
        let p = try TempProject()
        XCTAssertEqual(try p.loadError(bptt + "gradcheck: {wrt: [W_hx]}\n"), """
            cases/c.yaml:8:19: error: rnn.bptt reports no gradient for 'W_hx'; did you mean 'W_hh'? (it reports gradients for h0, W_xh, W_hh, b_h, W_hy and b_y)
            gradcheck: {wrt: [W_hx]}
                              ^
            """)
        XCTAssertEqual(try p.loadError(bptt + "gradcheck: {wrt: [h0]}\n"), """
            cases/c.yaml:8:19: error: gradcheck wrt 'h0' needs the input 'h0' in the case (its default is not differentiated)
            gradcheck: {wrt: [h0]}
                              ^
            """)
        XCTAssertEqual(try p.loadError(simpleStepCase + "gradcheck: {wrt: [W_hh]}\n"), """
            cases/c.yaml:7:12: error: rnn.step reports no gradients, so it has nothing to gradcheck
            gradcheck: {wrt: [W_hh]}
                       ^
            """)
    }
}
