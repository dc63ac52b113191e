import Foundation
import TestAssertions
import Testing

@testable import RNNKernels
@testable import RNNSpec

/// The direct reader of common worker-protocol lines (`WorkerProtocolFastPath`) gives exactly what
/// the general JSON reader gives, and leaves every other line to it.
@Suite final class WorkerProtocolFastPathTests {
    let registry = KernelRegistry.standard

    /// The same line with an extra key, which the direct reader does not take: the general reader's result.
    func general(_ line: String) -> String {
        precondition(line.hasPrefix("{"))
        return "{\"x-extra\":[1,{\"y\":null}]," + line.dropFirst()
    }

    @Test func testRequestsReadDirectlyAgreeWithTheGeneralReader() throws {
        let requests = [
            ExecutionRequest(
                id: "rnn_step/c00001", kernel: "rnn.step",
                params: ["activation": .string("relu"), "dtype": .string("float32")],
                inputs: [
                    "x": .real(RealTensor(Tensor(shape: [2], scalars: [1.5, -0.0]))),
                    "h_prev": .real(
                        RealTensor(Tensor(shape: [3], scalars: [.nan, .infinity, .leastNonzeroMagnitude]))),
                    "W_xh": .real(RealTensor(Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]))),
                    "W_hh": .real(RealTensor(Tensor(shape: [3, 3], scalars: Array(repeating: 0.1, count: 9)))),
                ],
                dims: ["H": 3, "I": 2]),
            ExecutionRequest(
                id: "dir/ünïcode", kernel: "grad.clip_norm", params: ["max_norm": .real(-0.0)],
                inputs: ["g": .real(RealTensor(Tensor(shape: [], scalars: [3e-300])))]),
            ExecutionRequest(
                id: "m", kernel: "loss.masked_mean", params: [:],
                inputs: [
                    "losses": .real(RealTensor(Tensor(shape: [0], scalars: []))),
                    "mask": .integer(Tensor(shape: [2], scalars: [Int.min, Int.max])),
                ]),
        ]
        for request in requests {
            let line = String(WorkerProtocol.encode(request).dropLast())
            let direct = try XCTUnwrap(WorkerProtocolFastPath.request(Data(line.utf8), registry: registry), line)
            XCTAssertNil(WorkerProtocolFastPath.request(Data(general(line).utf8), registry: registry))
            let slow = try WorkerProtocol.decodeRequest(Data(general(line).utf8), registry: registry)
            XCTAssertEqual(direct.id, slow.id)
            XCTAssertEqual(direct.kernel, slow.kernel)
            XCTAssertEqual(direct.params.keys.sorted(), slow.params.keys.sorted())
            for (k, v) in slow.params {
                if case .real(let a) = v, case .real(let b)? = direct.params[k] {
                    XCTAssertEqual(a.bitPattern, b.bitPattern, k)
                } else {
                    XCTAssertEqual(direct.params[k], v, k)
                }
            }
            XCTAssertEqual(direct.dims, slow.dims)
            XCTAssertNil(direct.gradcheck)
            XCTAssertEqual(Set(direct.inputs.keys), Set(slow.inputs.keys))
            for (name, value) in slow.inputs { XCTAssertTrue(sameBits(direct.inputs[name]!, value), name) }
        }
    }

    @Test func testRepliesReadDirectlyAgreeWithTheGeneralReader() throws {
        var outputs = KernelOutputs()
        outputs["h"] = .real(Tensor<Float>(shape: [2], scalars: [0.1, -Float.greatestFiniteMagnitude]))
        outputs["loss"] = .real(Tensor<Double>(shape: [], scalars: [2.5]))
        outputs["ids"] = .integer(Tensor(shape: [1, 2], scalars: [-1, 7]))
        outputs["ok"] = .boolean(Tensor(shape: [3], scalars: [true, false, true]))
        let line = String(WorkerProtocol.encode(.outputs(ExecutionReply(outputs: outputs)), id: "a/b").dropLast())
        // Whitespace and key order as other programs write them (Python's json.dumps).
        let spaced =
            #"{"id": "a/b", "outputs": [{"data": "AAAAAAAABEA=", "shape": [], "dtype": "float64", "name": "loss"}], "protocol": 1}"#
        for text in [line, spaced] {
            guard
                case .outputs(let direct)? = WorkerProtocolFastPath.reply(Data(text.utf8), id: "a/b", maxElements: 100)
            else { return XCTFail(text) }
            guard
                case .outputs(let slow) = try WorkerProtocol.decodeReply(
                    Data(general(text).utf8), id: "a/b", maxElements: 100)
            else { return XCTFail(text) }
            XCTAssertEqual(direct.outputs.entries.map(\.name), slow.outputs.entries.map(\.name))
            for (name, value) in slow.outputs.entries { XCTAssertTrue(sameBits(direct.outputs[name]!, value), name) }
        }
    }

    @Test func testLinesTheDirectReaderDoesNotTakeGoToTheGeneralReader() {
        let tensor = #"{"name":"h","dtype":"float64","shape":[1],"data":"AAAAAAAA8D8="}"#
        for text in [
            #"{"protocol":1,"id":"b","outputs":[\#(tensor)]}"#,  // another id
            #"{"protocol":1,"id":"a","outputs":[\#(tensor),\#(tensor)]}"#,  // twice
            // too few bytes
            #"{"protocol":1,"id":"a","outputs":[{"name":"h","dtype":"float64","shape":[2],"data":"AAAAAAAA8D8="}]}"#,
            #"{"protocol":1,"id":"a","outputs":[{"name":"h","dtype":"float64","shape":[1.0],"data":"AAAAAAAA8D8="}]}"#,
            // over the limit
            #"{"protocol":1,"id":"a","outputs":[{"name":"h","dtype":"float64","shape":[9],"data":"AAAAAAAA8D8="}]}"#,
            #"{"protocol":1,"id":"a\u0041","outputs":[\#(tensor)]}"#,  // an escape
            #"{"protocol":1,"id":"a","outputs":[\#(tensor)],"directional":[1]}"#,
            #"{"protocol":1,"id":"a","error":{"message":"m","at":"kernel"},"outputs":[]}"#,
            #"{"protocol":1,"id":"a","outputs":[\#(tensor)]} x"#,
            #"{"protocol":1,"protocol":1,"id":"a","outputs":[\#(tensor)]}"#,
        ] {
            XCTAssertNil(WorkerProtocolFastPath.reply(Data(text.utf8), id: "a", maxElements: 4), text)
        }
        XCTAssertNotNil(
            WorkerProtocolFastPath.reply(
                Data(#"{"protocol":1,"id":"a","outputs":[\#(tensor)]}"#.utf8), id: "a", maxElements: 4))
        for text in [
            #"{"protocol":1,"id":"a","kernel":"rnn.stepp","params":{},"inputs":[],"dims":{}}"#,  // unknown kernel
            #"{"protocol":1,"id":"a","kernel":"rnn.step","params":{"nope":1},"inputs":[],"dims":{}}"#,  // unknown param
            // wrong type
            #"{"protocol":1,"id":"a","kernel":"rnn.step","params":{"activation":1},"inputs":[],"dims":{}}"#,
            // read through Decimal
            #"{"protocol":1,"id":"a","kernel":"grad.clip_norm","params":{"max_norm":0.12345678901234567},"inputs":[],"dims":{}}"#,
            #"{"protocol":1,"id":"a","kernel":"grad.clip_norm","params":{"max_norm":1E2},"inputs":[],"dims":{}}"#,
            #"{"protocol":1,"id":"a","kernel":"rnn.bptt","params":{},"inputs":[],"dims":{},"gradcheck":{"wrt":["W_xh"],"eps":1e-6,"loss":"loss"}}"#,
        ] {
            XCTAssertNil(WorkerProtocolFastPath.request(Data(text.utf8), registry: registry), text)
        }
    }
}
