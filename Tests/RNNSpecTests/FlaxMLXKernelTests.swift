import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec

/// What the Flax and MLX kernels refuse, with the input or param to blame.
@Suite final class FlaxMLXKernelTests {
    func run(_ kernel: String, _ inputs: [String: Value], _ params: [String: ParamValue]) throws -> KernelOutputs {
        try KernelRegistry.standard.kernel(named: kernel)!.run(
            KernelContext(inputs: inputs, params: params), as: Double.self)
    }

    func real(_ shape: [Int]) -> Value {
        .real(Tensor<Double>(shape: shape, scalars: (0..<shape.reduce(1, *)).map { 0.1 * Double($0 % 7) - 0.3 }))
    }

    func blame(_ body: () throws -> KernelOutputs) -> (String, String)? {
        do { _ = try body() } catch let KernelError.input(name, message) { return (name, message) } catch let
            KernelError.param(name, message)
        {
            return (name, message)
        } catch { return ("?", "\(error)") }
        return nil
    }

    @Test func testMLXRejectsASequenceWithoutSteps() {
        let inputs = ["x": real([2, 0, 3]), "Wx": real([12, 3]), "Wh": real([12, 3])]
        let params: [String: ParamValue] = ["input_size": .integer(3), "hidden_size": .integer(3)]
        let b = blame { try run("mlx.LSTM", inputs, params) }
        XCTAssertEqual(b?.0, "x")
        XCTAssertTrue(b?.1.contains("no steps (L = 0)") ?? false, b?.1 ?? "no error")
        var ok = inputs
        ok["x"] = real([2, 4, 3])
        XCTAssertNotNil(try run("mlx.LSTM", ok, params)["all_cell"])
    }

    @Test func testMLXGRUNeedsBothBiasesOrNone() {
        let inputs = ["x": real([4, 3]), "Wx": real([9, 3]), "Wh": real([9, 3]), "b": real([9])]
        let b = blame { try run("mlx.GRU", inputs, ["input_size": .integer(3), "hidden_size": .integer(3)]) }
        XCTAssertEqual(b?.0, "bhn")
    }

    var flaxParams: [String: ParamValue] {
        [
            "in_features": .integer(2), "hidden_features": .integer(2), "api": .string("nnx"),
            "wrapper": .string("RNN"),
            "time_major": .boolean(false), "return_carry": .boolean(true), "reverse": .boolean(false),
            "keep_order": .boolean(false),
            "gate_fn": .string("sigmoid"), "activation_fn": .string("tanh"),
        ]
    }

    var flaxGRU: [String: Value] {
        [
            "inputs": real([2, 3, 2]), "cell.dense_i.kernel": real([2, 6]), "cell.dense_i.bias": real([6]),
            "cell.dense_h.kernel": real([2, 6]),
        ]
    }

    @Test func testFlaxSeqLengthsMustFitTheSteps() throws {
        var inputs = flaxGRU
        inputs["seq_lengths"] = .integer(Tensor(shape: [2], scalars: [3, 4]))
        let b = blame { try run("flax.GRUCell", inputs, flaxParams) }
        XCTAssertEqual(b?.0, "seq_lengths")
        XCTAssertTrue(b?.1.contains("0...3") ?? false, b?.1 ?? "no error")
        inputs["seq_lengths"] = .integer(Tensor(shape: [2], scalars: [3, 0]))
        XCTAssertNotNil(try run("flax.GRUCell", inputs, flaxParams)["carry"])
    }

    @Test func testFlaxNamesThePathsOfTheChosenAPIAndWrapper() {
        var inputs = flaxGRU
        inputs["cell.hn.bias"] = real([2])
        let b = blame { try run("flax.GRUCell", inputs, flaxParams) }
        XCTAssertEqual(b?.0, "cell.hn.bias")
        XCTAssertTrue(b?.1.contains("not in the state of nnx.RNN(GRUCell)") ?? false, b?.1 ?? "no error")
        var params = flaxParams
        params["wrapper"] = .string("Bidirectional")
        let c = blame { try run("flax.GRUCell", flaxGRU, params) }
        XCTAssertTrue(c?.0.hasPrefix("cell.dense_") ?? false, c?.0 ?? "no error")
    }

    @Test func testFlaxBidirectionalRefusesReverse() {
        var params = flaxParams
        params["wrapper"] = .string("Bidirectional")
        params["reverse"] = .boolean(true)
        let b = blame { try run("flax.GRUCell", flaxGRU, params) }
        XCTAssertEqual(b?.0, "reverse")
    }
}
