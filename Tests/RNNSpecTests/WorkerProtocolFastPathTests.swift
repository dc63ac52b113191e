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
            // With gradchecks: fast with every field, and full with the defaults.
            ExecutionRequest(
                id: "rnn_bptt/c00002", kernel: "rnn.bptt", params: [:],
                inputs: ["x": .real(RealTensor(Tensor(shape: [1, 1, 1], scalars: [0.5])))],
                gradcheck: {
                    var g = GradCheckPlan(wrt: ["W_xh", "W_hh"], eps: 1e-6, loss: "loss")
                    g.mode = .fast
                    g.directions = 7
                    g.seed = 12
                    g.tolerance.abs = 1e-7
                    g.tolerance.rel = 0.25
                    return g
                }()),
            ExecutionRequest(
                id: "g", kernel: "lstm.bptt", params: [:], inputs: [:],
                gradcheck: {
                    var g = GradCheckPlan(wrt: [], eps: 0.001, loss: "total")
                    g.mode = .full
                    return g
                }()),
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
            XCTAssertEqual(direct.gradcheck, slow.gradcheck)
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
        // With gradients (one without numeric values) and directional derivatives, non-finite among them.
        let gradcheckReply = ExecutionReply(
            outputs: outputs,
            gradients: [
                GradientPair(
                    name: "dW", analytic: RealTensor(Tensor<Double>(shape: [2], scalars: [1.5, -0.0])),
                    numeric: RealTensor(Tensor<Double>(shape: [2], scalars: [1.5000001, .leastNonzeroMagnitude]))),
                GradientPair(
                    name: "dx", analytic: RealTensor(Tensor<Float>(shape: [1, 1], scalars: [0.25])), numeric: nil),
            ],
            directional: [0.125, -3e-300, .nan, .infinity, -.infinity, 1])
        let withGradients = String(WorkerProtocol.encode(.outputs(gradcheckReply), id: "a/b").dropLast())
        for text in [line, spaced, withGradients] {
            guard
                case .outputs(let direct)? = WorkerProtocolFastPath.reply(Data(text.utf8), id: "a/b", maxElements: 100)
            else { return XCTFail(text) }
            guard
                case .outputs(let slow) = try WorkerProtocol.decodeReply(
                    Data(general(text).utf8), id: "a/b", maxElements: 100)
            else { return XCTFail(text) }
            XCTAssertEqual(direct.outputs.entries.map(\.name), slow.outputs.entries.map(\.name))
            for (name, value) in slow.outputs.entries { XCTAssertTrue(sameBits(direct.outputs[name]!, value), name) }
            XCTAssertEqual(direct.gradients.map(\.name), slow.gradients.map(\.name))
            for (d, g) in zip(direct.gradients, slow.gradients) {
                XCTAssertTrue(sameBits(.real(d.analytic), .real(g.analytic)), g.name)
                XCTAssertEqual(d.numeric == nil, g.numeric == nil, g.name)
                if let a = d.numeric, let b = g.numeric { XCTAssertTrue(sameBits(.real(a), .real(b)), g.name) }
            }
            XCTAssertEqual(direct.directional.map(\.bitPattern), slow.directional.map(\.bitPattern))
        }
        XCTAssertEqual(
            WorkerProtocolFastPath.reply(Data(withGradients.utf8), id: "a/b", maxElements: 100).map {
                if case .outputs(let r) = $0 { r.directional.count } else { -1 }
            }, 6)
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
            #"{"protocol":1,"id":"a\u0041","outputs":[\#(tensor)]}"#,  // "aA", another id
            #"{"protocol":1,"id":"a\uDE00","outputs":[\#(tensor)]}"#,  // a lone surrogate
            #"{"protocol":1,"id":"a\x","outputs":[\#(tensor)]}"#,  // not an escape
            #"{"protocol":1,"id":"a","outputs":[\#(tensor)],"directional":["NaN"]}"#,
            #"{"protocol":1,"id":"a","outputs":[\#(tensor)],"directional":\#(Array(repeating: 1, count: 65))}"#,
            #"{"protocol":1,"id":"a","outputs":[\#(tensor)],"directional":1}"#,
            #"{"protocol":1,"id":"a","outputs":[\#(tensor)],"gradients":[{"analytic":\#(tensor)}]}"#,  // named
            #"{"protocol":1,"id":"a","outputs":[],"gradients":[{"name":"d","numeric":{"dtype":"float64","shape":[1],"data":"AAAAAAAA8D8="}}]}"#,
            #"{"protocol":1,"id":"a","outputs":[],"gradients":[{"name":"d","analytic":{"dtype":"int64","shape":[1],"data":"AAAAAAAA8D8="}}]}"#,
            #"{"protocol":1,"id":"a","outputs":[],"gradients":[{"name":"d","analytic":{"dtype":"float64","shape":[1],"data":"AAAAAAAA8D8="},"x":1}]}"#,
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
            // gradchecks the general reader reads differently or refuses
            #"{"protocol":1,"id":"a","kernel":"rnn.bptt","params":{},"inputs":[],"dims":{},"gradcheck":{"wrt":["W_xh"],"eps":"1e-6","loss":"loss"}}"#,
            #"{"protocol":1,"id":"a","kernel":"rnn.bptt","params":{},"inputs":[],"dims":{},"gradcheck":{"wrt":["W_xh"],"loss":"loss"}}"#,
            #"{"protocol":1,"id":"a","kernel":"rnn.bptt","params":{},"inputs":[],"dims":{},"gradcheck":{"wrt":[1],"eps":1e-6,"loss":"loss"}}"#,
            #"{"protocol":1,"id":"a","kernel":"rnn.bptt","params":{},"inputs":[],"dims":{},"gradcheck":{"wrt":[],"eps":1e-6,"loss":"loss","mode":"half"}}"#,
            #"{"protocol":1,"id":"a","kernel":"rnn.bptt","params":{},"inputs":[],"dims":{},"gradcheck":{"wrt":[],"eps":1e-6,"loss":"loss","directions":0}}"#,
            #"{"protocol":1,"id":"a","kernel":"rnn.bptt","params":{},"inputs":[],"dims":{},"gradcheck":{"wrt":[],"eps":1e-6,"loss":"loss","directions":65}}"#,
            #"{"protocol":1,"id":"a","kernel":"rnn.bptt","params":{},"inputs":[],"dims":{},"gradcheck":{"wrt":[],"eps":1e-6,"loss":"loss","seed":-1}}"#,
            #"{"protocol":1,"id":"a","kernel":"rnn.bptt","params":{},"inputs":[],"dims":{},"gradcheck":{"wrt":[],"eps":1e-6,"loss":"loss","seed":1.5}}"#,
            #"{"protocol":1,"id":"a","kernel":"rnn.bptt","params":{},"inputs":[],"dims":{},"gradcheck":{"wrt":[],"eps":1e-6,"loss":"loss","abs":"inf"}}"#,
            #"{"protocol":1,"id":"a","kernel":"rnn.bptt","params":{},"inputs":[],"dims":{},"gradcheck":{"wrt":[],"eps":1e-6,"loss":"loss","rel":null}}"#,
            #"{"protocol":1,"id":"a","kernel":"rnn.bptt","params":{},"inputs":[],"dims":{},"gradcheck":{"wrt":[],"eps":1e-6,"loss":"loss","other":1}}"#,
            #"{"protocol":1,"id":"a","kernel":"rnn.bptt","params":{},"inputs":[],"dims":{},"gradcheck":[]}"#,
        ] {
            XCTAssertNil(WorkerProtocolFastPath.request(Data(text.utf8), registry: registry), text)
        }
    }

    /// Numbers are read exactly, by the direct reader and by the general one (which Foundation's JSON
    /// reader served: it read about half of the 17-digit numbers Swift writes one unit in the last
    /// place off), and escaped strings are read by the direct reader as written.
    @Test func testNumbersAreReadExactlyAndEscapedStringsDirectly() throws {
        var rng = SystemRandomNumberGenerator()
        var values: [Double] = [0.12345678901234567, 0.7942857142857143, 1e300, -2.5e-308, 100, -0.0, 1e22]
        for _ in 0..<2000 { values.append(Double.random(in: -4...4, using: &rng) * 1e-3) }
        for v in values {
            let request = ExecutionRequest(
                id: "a", kernel: "grad.clip_norm", params: ["max_norm": .real(v)], inputs: [:])
            let line = String(WorkerProtocol.encode(request).dropLast())
            let direct = try XCTUnwrap(WorkerProtocolFastPath.request(Data(line.utf8), registry: registry))
            let slow = try WorkerProtocol.decodeRequest(Data(general(line).utf8), registry: registry)
            for read in [direct, slow] {
                guard case .real(let r)? = read.params["max_norm"] else { return XCTFail("\(v)") }
                XCTAssertEqual(r.bitPattern, v.bitPattern, "\(v) read as \(r)")
            }
        }
        for v in [1e300, -2.5e-308, 0.30000000000000004] {
            var outputs = KernelOutputs()
            outputs["h"] = .real(Tensor<Double>(shape: [], scalars: [0]))
            let line = String(
                WorkerProtocol.encode(.outputs(ExecutionReply(outputs: outputs, directional: [v])), id: "a").dropLast())
            guard
                case .outputs(let slow) = try WorkerProtocol.decodeReply(
                    Data(general(line).utf8), id: "a", maxElements: 9),
                case .outputs(let direct)? = WorkerProtocolFastPath.reply(Data(line.utf8), id: "a", maxElements: 9)
            else { return XCTFail("\(v)") }
            XCTAssertEqual(slow.directional.map(\.bitPattern), [v.bitPattern])
            XCTAssertEqual(direct.directional.map(\.bitPattern), [v.bitPattern])
        }
        for id in ["q\"uote", "back\\slash", "line\nbreak\ttab", "\u{7}bell", "é/\u{1F600}", "\u{2028}", "a/b"] {
            let request = ExecutionRequest(id: id, kernel: "grad.clip_norm", params: [:], inputs: [:])
            let line = WorkerProtocol.encode(request).dropLast()
            XCTAssertEqual(WorkerProtocolFastPath.request(Data(line.utf8), registry: registry)?.id, id, String(line))
        }
        // A number beyond a double is left to Foundation's reader on both paths (its result or its error).
        let huge =
            #"{"protocol":1,"id":"a","kernel":"grad.clip_norm","params":{"max_norm":1e999},"inputs":[],"dims":{}}"#
        XCTAssertNil(WorkerProtocolFastPath.request(Data(huge.utf8), registry: registry))
        XCTAssertNil(WorkerProtocolFastPath.parse(Data(huge.utf8)).flatMap(WorkerProtocolFastPath.foundation))
        XCTAssertNotNil(WorkerProtocolFastPath.parse(Data(huge.utf8)))
        // Escapes JSON allows that rnnspec does not write: `\/`, `\b`, `\f`, lower-case hex, a surrogate pair.
        let written =
            #"{"protocol":1,"id":"\/\b\f\u00e9\uD83D\uDE00","kernel":"grad.clip_norm","params":{},"inputs":[],"dims":{}}"#
        XCTAssertEqual(
            WorkerProtocolFastPath.request(Data(written.utf8), registry: registry)?.id, "/\u{8}\u{C}é\u{1F600}")
        XCTAssertEqual(
            try WorkerProtocol.decodeRequest(Data(general(written).utf8), registry: registry).id,
            "/\u{8}\u{C}é\u{1F600}")
    }
}
