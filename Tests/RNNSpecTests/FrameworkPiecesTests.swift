import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// Bad input to keras.Bidirectional, the Keras layers' mask_value, the PyTorch cells and total_length
/// gets a located error naming the rule.
@Suite final class FrameworkPiecesTests {
    func error(_ text: String) throws -> String {
        let p = try TempProject()
        return try p.loadError(text)
    }

    let torchGRU = """
        kernel: torch.GRU
        params: {input_size: 1, hidden_size: 1, total_length: 2}
        inputs:
          input: [[[0.5], [0.1]], [[0.2], [0.3]], [[0.0], [0.4]]]
          weight_ih_l0: [[0.1], [0.2], [0.3]]
          weight_hh_l0: [[0.1], [0.2], [0.3]]
          bias_ih_l0: [0.0, 0.0, 0.0]
          bias_hh_l0: [0.0, 0.0, 0.0]

        """

    @Test func testTotalLengthBelowTheLongestSequenceIsPyTorchsError() throws {
        let e = try error(torchGRU + "  lengths: [3, 1]\n")
        XCTAssertTrue(
            e.hasPrefix(
                "cases/c.yaml:2:55: error: Expected total_length to be at least the length of the longest sequence in input, but got total_length=2 and max sequence length being 3"
            ), e)
    }

    @Test func testTotalLengthNeedsLengths() throws {
        let e = try error(torchGRU)
        XCTAssertTrue(
            e.contains("error: total_length is pad_packed_sequence's: it needs lengths (a packed sequence)"), e)
    }

    let bidirectional = """
        kernel: keras.Bidirectional
        params: {layer: SimpleRNN, units: 1, merge_mode: sum, backward_units: 2}
        inputs:
          inputs: [[[0.5], [0.0]]]
          forward_kernel: [[0.3]]
          forward_recurrent_kernel: [[0.2]]
          forward_bias: [0.1]
          backward_kernel: [[0.3, 0.1]]
          backward_recurrent_kernel: [[0.2, 0.1], [0.0, 0.5]]
          backward_bias: [0.1, 0.0]

        """

    @Test func testElementwiseMergeNeedsEqualUnits() throws {
        let e = try error(bidirectional)
        XCTAssertTrue(
            e.contains(
                "error: merge_mode sum combines the two outputs element by element: both layers need the same units, found 1 and 2"
            ), e)
    }

    @Test func testSimpleRNNHasNoRecurrentActivation() throws {
        let e = try error(
            bidirectional.replacingOccurrences(of: "merge_mode: sum", with: "recurrent_activation: sigmoid"))
        XCTAssertTrue(e.contains("error: keras.layers.SimpleRNN has no recurrent_activation"), e)
    }

    @Test func testMaskAndMaskValueAreExclusive() throws {
        let text =
            bidirectional.replacingOccurrences(of: "merge_mode: sum, backward_units: 2", with: "mask_value: 0.0")
            .replacingOccurrences(of: "[[0.3, 0.1]]", with: "[[0.3]]").replacingOccurrences(
                of: "[[0.2, 0.1], [0.0, 0.5]]", with: "[[0.2]]"
            )
            .replacingOccurrences(of: "[0.1, 0.0]", with: "[0.1]") + "  mask: [[true, false]]\n"
        let e = try error(text)
        XCTAssertTrue(e.contains("error: give either a mask or mask_value (a Masking layer in front), not both"), e)
    }

    @Test func testCellStateIsBatchedLikeTheInput() throws {
        let e = try error(
            """
            kernel: torch.GRUCell
            params: {input_size: 1, hidden_size: 1}
            inputs:
              input: [0.5]
              h_0: [[0.1]]
              weight_ih: [[0.1], [0.2], [0.3]]
              weight_hh: [[0.1], [0.2], [0.3]]
              bias_ih: [0.0, 0.0, 0.0]
              bias_hh: [0.0, 0.0, 0.0]

            """)
        XCTAssertTrue(
            e.hasPrefix(
                "cases/c.yaml:5:8: error: GRUCell: Expected h_0 to be 1D like input (unbatched), got 2D [1, 1]"), e)
    }
}
